//go:build !(linux && cgo && webkit)

package main

import (
	"fmt"
	"os"

	"github.com/mobileplans/mobileplans/ui/portal/webkit/wire"
)

const unavailable = "built without WebKitGTK; build with -tags webkit (Linux, cgo, libwebkit2gtk-4.1-dev)"

// main reports that this build has no web view and exits 2, which the app
// (ui/portal/webkit) reads as ErrUnavailable.
func main() {
	fmt.Fprintln(os.Stderr, "mobileplans-portal:", unavailable)
	_ = (&lineWriter{w: os.Stdout}).write(wire.Line{Event: wire.EvError, Error: unavailable})
	os.Exit(2)
}
