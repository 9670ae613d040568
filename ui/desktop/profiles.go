package desktop

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mobileplans/mobileplans/app"
)

// profilesView is the Profiles tab: the eUICC's profiles (switch, rename,
// delete), the pending eUICC notifications and the deferred downloads.
type profilesView struct {
	u    *UI
	root *fyne.Container

	profiles []app.Profile
	notes    []app.PendingNotification
	deferred []app.DeferredDownload
	status   *widget.Label
	// Buttons by action and ICCID, for tests and keyboard users.
	buttons map[string]*widget.Button
}

func newProfilesView(u *UI) *profilesView {
	v := &profilesView{u: u, root: container.NewStack(), status: label(""), buttons: map[string]*widget.Button{}}
	v.render()
	return v
}

// refresh reads the profiles, notifications and deferred downloads.
func (v *profilesView) refresh() {
	var d app.Device
	var notes []app.PendingNotification
	var deferred []app.DeferredDownload
	v.u.call(func(ctx context.Context, a Agent) error {
		var err error
		if d, err = a.Device(ctx); err != nil {
			return err
		}
		deferred = a.PendingDownloads()
		notes, err = a.PendingNotifications(ctx)
		return err
	}, func(err error) {
		if err != nil {
			v.status.SetText(explain(err).Title + ": " + explain(err).What)
		}
		v.profiles, v.notes, v.deferred = d.Profiles, notes, deferred
		v.render()
	})
}

func (v *profilesView) render() {
	v.buttons = map[string]*widget.Button{}
	list := container.NewVBox()
	if len(v.profiles) == 0 {
		list.Add(label("No profiles on the eSIM yet. Get a plan to add one."))
	}
	for _, pr := range v.profiles {
		list.Add(v.profileRow(pr))
	}
	items := []fyne.CanvasObject{heading("Profiles on the eSIM"), list}

	if len(v.deferred) > 0 {
		items = append(items, heading("Plans waiting to download"))
		for _, d := range v.deferred {
			items = append(items, v.deferredRow(d))
		}
	}

	send := widget.NewButtonWithIcon("Send now", theme.MailSendIcon(), v.sendNotifications)
	v.buttons["send"] = send
	nt := "No notifications waiting for the operators."
	if n := len(v.notes); n > 0 {
		nt = fmt.Sprintf("%d notification(s) waiting for the operators' servers (they confirm installs, switches and deletions).", n)
	} else {
		send.Disable()
	}
	items = append(items, heading("Notifications"), label(nt), container.NewHBox(send,
		widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), v.refresh)), v.status)
	v.root.Objects = []fyne.CanvasObject{container.NewVScroll(container.NewPadded(container.NewVBox(items...)))}
	v.root.Refresh()
}

func (v *profilesView) profileRow(pr app.Profile) fyne.CanvasObject {
	state := "Not in use"
	if pr.Enabled {
		state = "In use"
	}
	title := widget.NewLabelWithStyle(firstNonEmpty(pr.Nickname, pr.ServiceProviderName, pr.ProfileName, "Profile"),
		fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	sub := label(fmt.Sprintf("%s · %s · %s", state, firstNonEmpty(pr.ServiceProviderName, "—"), pr.ICCID))
	use := widget.NewButtonWithIcon("Use", theme.ConfirmIcon(), func() { v.switchTo(pr) })
	rename := widget.NewButtonWithIcon("Rename", theme.DocumentCreateIcon(), func() { v.rename(pr) })
	del := widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), func() { v.confirmDelete(pr) })
	if pr.Enabled {
		use.Disable()
		del.Disable()
	}
	v.buttons["use:"+pr.ICCID], v.buttons["rename:"+pr.ICCID], v.buttons["delete:"+pr.ICCID] = use, rename, del
	return widget.NewCard("", "", container.NewBorder(nil, nil, nil, container.NewHBox(use, rename, del),
		container.NewVBox(title, sub)))
}

func (v *profilesView) deferredRow(d app.DeferredDownload) fyne.CanvasObject {
	when := "Due " + d.Due.Local().Format("Mon 15:04")
	if !d.Due.After(v.u.o.Now()) {
		when = "Ready to download"
	}
	now := widget.NewButtonWithIcon("Download now", theme.DownloadIcon(), func() {
		v.u.call(func(ctx context.Context, a Agent) error { return a.RunDeferred(ctx, d.ID) }, func(err error) {
			if err != nil {
				v.u.showError("Download", err)
			}
			v.refresh()
		})
	})
	if d.Due.After(v.u.o.Now()) {
		now.Disable()
	}
	cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() {
		dialog.ShowConfirm("Cancel this plan's download?", "The plan from "+firstNonEmpty(d.OperatorBrand, d.OperatorID)+
			" will not be installed. You may have to ask the operator for it again.", func(ok bool) {
			if !ok {
				return
			}
			v.u.call(func(ctx context.Context, a Agent) error { return a.CancelDeferred(d.ID) }, func(err error) {
				if err != nil {
					v.u.showError("Cancel", err)
				}
				v.refresh()
			})
		}, v.u.win)
	})
	v.buttons["run:"+d.ID], v.buttons["cancel:"+d.ID] = now, cancel
	return widget.NewCard("", "", container.NewBorder(nil, nil, nil, container.NewHBox(now, cancel),
		container.NewVBox(widget.NewLabelWithStyle(firstNonEmpty(d.OperatorBrand, d.OperatorID), fyne.TextAlignLeading,
			fyne.TextStyle{Bold: true}), label(when))))
}

func (v *profilesView) switchTo(pr app.Profile) {
	v.status.SetText("Switching to " + profileTitle(pr) + "…")
	v.u.plan.op = app.Operator{Brand: firstNonEmpty(pr.ServiceProviderName, pr.Nickname, "your plan")}
	v.u.call(func(ctx context.Context, a Agent) error { return a.SwitchProfile(ctx, pr.ICCID) }, func(err error) {
		if err != nil {
			v.status.SetText("")
			v.u.showError("Switch profile", err)
		}
	})
}

// Rename asks for a new nickname.
func (v *profilesView) rename(pr app.Profile) {
	e := widget.NewEntry()
	e.SetText(pr.Nickname)
	e.Validator = func(s string) error {
		if len(s) > 64 {
			return fmt.Errorf("at most 64 bytes")
		}
		return nil
	}
	dialog.ShowForm("Rename profile", "Rename", "Cancel", []*widget.FormItem{widget.NewFormItem("Name", e)}, func(ok bool) {
		if ok {
			v.doRename(pr.ICCID, e.Text)
		}
	}, v.u.win)
}

func (v *profilesView) doRename(iccid, name string) {
	v.u.call(func(ctx context.Context, a Agent) error { return a.RenameProfile(ctx, iccid, name) }, func(err error) {
		if err != nil {
			v.u.showError("Rename profile", err)
		}
		v.refresh()
	})
}

func (v *profilesView) confirmDelete(pr app.Profile) {
	dialog.ShowConfirm("Delete "+profileTitle(pr)+"?",
		"The profile is removed from the eSIM for good. To use this plan again you would need a new one from the operator.",
		func(ok bool) {
			if ok {
				v.doDelete(pr.ICCID)
			}
		}, v.u.win)
}

func (v *profilesView) doDelete(iccid string) {
	v.status.SetText("Deleting…")
	v.u.call(func(ctx context.Context, a Agent) error { return a.DeleteProfile(ctx, iccid) }, func(err error) {
		v.status.SetText("")
		if err != nil {
			v.u.showError("Delete profile", err)
		}
		v.refresh()
	})
}

func (v *profilesView) sendNotifications() {
	v.status.SetText("Sending…")
	var rep app.NotificationReport
	v.u.call(func(ctx context.Context, a Agent) error {
		var err error
		rep, err = a.SendNotifications(ctx)
		return err
	}, func(err error) {
		switch {
		case err != nil:
			v.status.SetText(explain(err).Title)
		case len(rep.Failed) > 0:
			v.status.SetText(fmt.Sprintf("%d sent, %d not sent (they stay on the eSIM and are sent later).", rep.Delivered, len(rep.Failed)))
		default:
			v.status.SetText(fmt.Sprintf("%d sent.", rep.Delivered))
		}
		v.refresh()
	})
}
