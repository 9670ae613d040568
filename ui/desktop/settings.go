package desktop

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/internal/launch"
)

// Modem backends offered in the settings.
const (
	backendAuto = "Automatic"
	backendMM   = "ModemManager"
	backendAT   = "AT serial port"
)

// settingsView is the Settings tab: mock mode, the modem backend and port,
// the discovery service, the trusted test CA, and the portal's location
// and market.
type settingsView struct {
	u    *UI
	root *fyne.Container

	mock      *widget.Check
	backend   *widget.Select
	port      *widget.Entry
	discovery *widget.Entry
	trustCA   *widget.Entry
	trustCI   *widget.Entry
	location  *widget.Entry
	market    *widget.Entry
	apply     *widget.Button
	status    *widget.Label
}

func newSettingsView(u *UI) *settingsView {
	v := &settingsView{u: u, status: label("")}
	v.mock = widget.NewCheck("Mock mode: the bundled test network and a simulated modem (no hardware)", func(bool) { v.enable() })
	v.backend = widget.NewSelect([]string{backendAuto, backendMM, backendAT}, func(string) { v.enable() })
	v.port = widget.NewEntry()
	v.port.SetPlaceHolder("/dev/ttyUSB2, or the modem's IMEI for ModemManager")
	v.discovery = widget.NewEntry()
	v.discovery.SetPlaceHolder("https://mobileplans.example.net")
	v.trustCA = widget.NewEntry()
	v.trustCA.SetPlaceHolder("/path/to/test-ca.pem (optional)")
	v.trustCI = widget.NewEntry()
	v.trustCI.SetPlaceHolder("/path/to/gsma-ci.pem (for test SM-DP+ servers)")
	v.location = widget.NewEntry()
	v.location.SetPlaceHolder("automatic")
	v.market = widget.NewEntry()
	v.market.SetPlaceHolder("automatic")
	v.apply = widget.NewButtonWithIcon("Apply", theme.ConfirmIcon(), v.save)
	v.apply.Importance = widget.HighImportance
	form := widget.NewForm(
		widget.NewFormItem("", v.mock),
		widget.NewFormItem("Modem", v.backend),
		widget.NewFormItem("Port or IMEI", v.port),
		widget.NewFormItem("Discovery service", v.discovery),
		widget.NewFormItem("Trusted test CA", v.trustCA),
		widget.NewFormItem("Trusted GSMA CI", v.trustCI),
		widget.NewFormItem("Location", v.location),
		widget.NewFormItem("Market", v.market),
	)
	v.root = container.NewPadded(container.NewVBox(heading("Settings"), form,
		label("Location and market are two-letter country codes sent to the operator's page; leave them empty to follow the network."),
		container.NewHBox(v.apply), v.status))
	v.show(launch.Settings{Mock: true})
	return v
}

// show fills the form from s and the agent's settings.
func (v *settingsView) show(s launch.Settings) {
	v.mock.SetChecked(s.Mock)
	kind, rest, _ := strings.Cut(s.Modem, ":")
	switch kind {
	case "mm":
		v.backend.SetSelected(backendMM)
	case "at":
		v.backend.SetSelected(backendAT)
	default:
		v.backend.SetSelected(backendAuto)
	}
	v.port.SetText(rest)
	v.discovery.SetText(s.Discovery)
	v.trustCA.SetText(s.TrustCA)
	v.trustCI.SetText(s.TrustCI)
	if a := v.u.agent; a != nil {
		as := a.Settings()
		v.location.SetText(as.Location)
		v.market.SetText(as.Market)
	}
	v.enable()
}

func (v *settingsView) enable() {
	for _, w := range []fyne.Disableable{v.backend, v.port, v.discovery, v.trustCA, v.trustCI} {
		if v.mock.Checked {
			w.Disable()
		} else {
			w.Enable()
		}
	}
	if !v.mock.Checked && v.backend.Selected == backendAuto {
		v.port.Disable()
	}
}

// settings reads the form.
func (v *settingsView) settings() launch.Settings {
	s := v.u.settings
	s.Mock = v.mock.Checked
	port := strings.TrimSpace(v.port.Text)
	switch v.backend.Selected {
	case backendMM:
		s.Modem = "mm"
		if port != "" {
			s.Modem += ":" + port
		}
	case backendAT:
		s.Modem = "at:" + port
	default:
		s.Modem = "auto"
	}
	s.Discovery = strings.TrimSpace(v.discovery.Text)
	s.TrustCA = strings.TrimSpace(v.trustCA.Text)
	s.TrustCI = strings.TrimSpace(v.trustCI.Text)
	return s
}

func (v *settingsView) save() {
	s := v.settings()
	if a := v.u.agent; a != nil {
		as := app.Settings{Location: strings.ToUpper(strings.TrimSpace(v.location.Text)),
			Market: strings.ToUpper(strings.TrimSpace(v.market.Text))}
		if err := a.SetSettings(as); err != nil {
			v.status.SetText("Location/market: " + err.Error())
			return
		}
	}
	if s == v.u.settings && v.u.agent != nil {
		v.status.SetText("Saved.")
		return
	}
	if err := v.u.Apply(s); err != nil {
		m := explain(err)
		v.status.SetText(m.What + " " + m.Do)
		return
	}
	v.status.SetText("Saved. Reconnecting…")
}
