// Package fynetest helps tests drive a Fyne UI under Fyne's test driver:
// it finds widgets by their text in a canvas and runs the UI updates that
// background goroutines queued, on the test's goroutine.
package fynetest
