package fynetest

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

func testRenderer(w fyne.Widget) fyne.WidgetRenderer { return test.WidgetRenderer(w) }
