// Package assets holds the Mobile Plans app icon, embedded in the binary, and
// the application ID every packaging file uses.
//
// The icon is drawn by gen_icon.go (`go run assets/gen_icon.go` from the
// repository root), which writes icon.png (512x512), the hicolor theme PNGs
// under icons/hicolor/NxN/apps and the same design as SVG under
// icons/hicolor/scalable/apps. The files are committed; the test checks they
// are what the generator draws.
//
// The package is pure Go (no Fyne, no cgo) so that it builds with
// CGO_ENABLED=0 for every OS; the UI wraps the bytes in a fyne.Resource
// itself, e.g. fyne.NewStaticResource("icon.png", assets.Icon()).
package assets
