// Package syncbuf is a bytes.Buffer that goroutines may write and read at
// the same time: a log or trace sink that a test (or a view) polls while
// the code under observation keeps writing.
package syncbuf
