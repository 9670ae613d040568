// Package ring keeps the last lines written to it: the desktop app's log
// and APDU trace views read them, and export them to a file, without the
// app holding an unbounded history.
package ring
