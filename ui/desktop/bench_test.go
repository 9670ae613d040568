package desktop

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/mobileplans/mobileplans/internal/fynetest"
	"github.com/mobileplans/mobileplans/internal/launch"
)

// BenchmarkFirstFrame: building the whole UI in a new window, reading the
// device (a fake agent answering at once) and painting the first frame of
// the device screen with Fyne's software painter. The real app's cold
// start under Xvfb is BenchmarkDesktopColdStart in e2e.
func BenchmarkFirstFrame(b *testing.B) {
	fa := test.NewApp()
	defer fa.Quit()
	for b.Loop() {
		q := fynetest.NewQueue()
		a := newFakeAgent()
		bk := &fakeBackend{sess: &fakeSession{a: a, win: &fakeWindow{kind: "webkit", events: make(chan PortalEvent)}}}
		w := test.NewWindow(nil)
		w.Resize(fyne.NewSize(900, 620))
		u := New(fa, w, Options{Backend: bk, Store: &memStore{s: launch.Settings{Mock: true}}, Do: q.Do})
		u.Start()
		q.Until(b, 10*time.Second, "device", func() bool { return u.Screen() == screenDevice && u.plan.dev.EID != "" })
		if img := w.Canvas().Capture(); img.Bounds().Dx() == 0 {
			b.Fatal("empty frame")
		}
		u.Close()
		w.Close()
	}
}
