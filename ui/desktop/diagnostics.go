package desktop

import (
	"fmt"
	"io"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// diagnosticsView is the Diagnostics tab for device makers and support:
// the app's log, the APDU trace (recorded only when switched on: it holds
// the exchanged data in full) and their export to files.
type diagnosticsView struct {
	u    *UI
	root *fyne.Container

	showTrace bool
	lines     []string
	list      *widget.List
	record    *widget.Check
	which     *widget.RadioGroup
	status    *widget.Label
}

const (
	viewLog   = "Log"
	viewTrace = "APDU trace"
)

func newDiagnosticsView(u *UI) *diagnosticsView {
	v := &diagnosticsView{u: u, status: label("")}
	v.list = widget.NewList(func() int { return len(v.lines) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.TextStyle.Monospace = true
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(v.lines[i]) })
	v.record = widget.NewCheck("Record the APDU trace (it contains activation codes: share it only with whom you trust)", func(on bool) {
		if u.o.Trace != nil {
			u.o.Trace.SetEnabled(on)
		}
	})
	if u.o.Trace == nil {
		v.record.Disable()
	} else {
		v.record.SetChecked(u.o.Trace.Enabled())
	}
	v.which = widget.NewRadioGroup([]string{viewLog, viewTrace}, func(s string) {
		v.showTrace = s == viewTrace
		v.refresh()
	})
	v.which.Horizontal = true
	v.which.SetSelected(viewLog)
	export := widget.NewButtonWithIcon("Export…", theme.DocumentSaveIcon(), v.exportDialog)
	refresh := widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), v.refresh)
	top := container.NewVBox(heading("Diagnostics"), v.record, container.NewHBox(v.which, refresh, export), v.status)
	v.root = container.NewPadded(container.NewBorder(top, nil, nil, nil, v.list))
	return v
}

func (v *diagnosticsView) source() Logs {
	if v.showTrace {
		if v.u.o.Trace == nil {
			return nil
		}
		return v.u.o.Trace
	}
	return v.u.o.Logs
}

func (v *diagnosticsView) refresh() {
	v.lines = nil
	if src := v.source(); src != nil {
		v.lines = src.Lines()
	}
	switch {
	case v.showTrace && len(v.lines) == 0:
		v.status.SetText("No APDUs recorded. Switch recording on, then repeat what you want to trace.")
	default:
		v.status.SetText(fmt.Sprintf("%d lines", len(v.lines)))
	}
	v.list.Refresh()
	if n := len(v.lines); n > 0 {
		v.list.ScrollToBottom()
	}
}

// Export writes the shown lines (log or trace) to w.
func (v *diagnosticsView) Export(w io.Writer) error {
	src := v.source()
	if src == nil {
		return fmt.Errorf("nothing to export")
	}
	_, err := src.WriteTo(w)
	return err
}

func (v *diagnosticsView) exportDialog() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		err = v.Export(w)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			v.status.SetText("Export failed: " + err.Error())
			return
		}
		v.status.SetText("Saved to " + w.URI().Path())
	}, v.u.win)
	name := "mobileplans.log"
	if v.showTrace {
		name = "mobileplans-apdu.trace"
	}
	d.SetFileName(name)
	d.Show()
}
