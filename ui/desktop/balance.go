package desktop

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/service/discovery"
)

// balanceView is the Balance tab: what is left of the plan in use (the
// operator's MO API through the discovery service) and top-up (the
// operator's portal again).
type balanceView struct {
	u    *UI
	root *fyne.Container
	// TopUp opens the operator's portal; exported to the tests through the
	// view's state.
	topUp *widget.Button
}

func newBalanceView(u *UI) *balanceView {
	v := &balanceView{u: u, root: container.NewStack()}
	v.set(label("Open this tab to see your balance."))
	return v
}

func (v *balanceView) set(o fyne.CanvasObject) {
	v.root.Objects = []fyne.CanvasObject{container.NewPadded(container.NewVBox(heading("Balance"), o))}
	v.root.Refresh()
}

func (v *balanceView) refresh() {
	v.set(label("Asking the operator…"))
	var pr app.Profile
	var b *discovery.Balance
	var has bool
	v.u.call(func(ctx context.Context, a Agent) error {
		d, err := a.Device(ctx)
		if err != nil {
			return err
		}
		if pr, has = d.EnabledProfile(); !has {
			return nil
		}
		b, err = a.Balance(ctx, pr.ICCID)
		return err
	}, func(err error) {
		refresh := widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), v.refresh)
		switch {
		case err != nil:
			m := explain(err)
			m.Title = "The balance is not available"
			m.What = "The operator did not tell Mobile Plans the balance of " + firstNonEmpty(pr.ServiceProviderName, "this plan") + "."
			m.Do = "Try again later, or check the operator's website."
			v.u.log.Info("balance", "err", err)
			v.set(container.NewVBox(messageView(m), container.NewHBox(refresh)))
		case !has:
			v.set(container.NewVBox(label("No plan is in use. Get a plan first."), container.NewHBox(refresh)))
		default:
			v.set(v.view(pr, b, refresh))
		}
	})
}

func (v *balanceView) view(pr app.Profile, b *discovery.Balance, refresh *widget.Button) fyne.CanvasObject {
	data := "—"
	if b.DataRemainingInMB != nil {
		mb := *b.DataRemainingInMB
		if mb >= 1024 {
			data = fmt.Sprintf("%.1f GB", mb/1024)
		} else {
			data = fmt.Sprintf("%.0f MB", mb)
		}
	}
	left := "—"
	if b.TimeRemainingSeconds != nil {
		left = humanDuration(time.Duration(*b.TimeRemainingSeconds) * time.Second)
	}
	form := widget.NewForm(
		widget.NewFormItem("Plan", label(profileTitle(pr))),
		widget.NewFormItem("Data left", label(data)),
		widget.NewFormItem("Time left", label(left)),
	)
	v.topUp = widget.NewButtonWithIcon("Top up", theme.ContentAddIcon(), func() {
		f := v.u.plan
		f.op = app.Operator{ID: b.OperatorID, Brand: firstNonEmpty(pr.ServiceProviderName, b.OperatorID)}
		v.u.Select(TabPlan)
		f.openPortal()
	})
	v.topUp.Importance = widget.HighImportance
	return container.NewVBox(form, container.NewHBox(v.topUp, refresh))
}

// humanDuration says a duration in days or hours.
func humanDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "expired"
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes()))
}
