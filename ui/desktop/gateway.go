package desktop

import (
	"context"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mobileplans/mobileplans/app"
	"github.com/mobileplans/mobileplans/service/discovery"
)

// newGatewayView renders the operator's gateway page from its template
// (colours, image, body text, button text) with the standard disclaimer;
// without a template it is the standard page.
func newGatewayView(u *UI, g app.Gateway, onContinue, onBack func()) fyne.CanvasObject {
	brand := g.Operator.Brand
	var t *discovery.GatewayTemplate
	if g.Selection != nil && g.Selection.Enhanced {
		t = g.Selection.Template
	}
	body := "Get a data plan from " + brand + " for this computer. You'll choose a plan on " + brand + "'s page and pay there; this app then installs it on the eSIM."
	button := "See " + brand + " plans"
	th := &gatewayTheme{Theme: theme.DefaultTheme()}
	var bg color.Color = color.Transparent
	var image fyne.CanvasObject
	if t != nil {
		if t.BodyText != "" {
			body = t.BodyText
		}
		if t.ButtonText != "" {
			button = t.ButtonText
		}
		th.body, th.button, th.buttonFont, th.link = rgba(t.BodyFontColor), rgba(t.ButtonColor), rgba(t.ButtonFontColor), rgba(t.HyperlinkFontColor)
		if c := rgba(t.BackgroundColor); c != nil {
			bg = c
		}
		if img := pickImage(t.Images); img != "" {
			image = newRemoteImage(u, img, fyne.NewSize(480, 240))
		}
	}
	cont := widget.NewButton(button, onContinue)
	cont.Importance = widget.HighImportance
	disclaimer := label(brand + " provides the plan, its price and its terms; Mobile Plans only installs it. You'll leave this app for " + brand + "'s page.")
	disclaimer.Importance = widget.LowImportance
	items := []fyne.CanvasObject{}
	if image != nil {
		items = append(items, image)
	}
	items = append(items, widget.NewLabelWithStyle(brand, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), label(body),
		container.NewHBox(cont), disclaimer)
	page := container.NewThemeOverride(container.NewPadded(container.NewVBox(items...)), th)
	back := widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), onBack)
	return container.NewBorder(nil, container.NewHBox(back), nil, nil,
		container.NewStack(canvas.NewRectangle(bg), page))
}

// pickImage chooses the widest gateway image that fits the window.
func pickImage(imgs []discovery.GatewayImage) string {
	best, bw := "", 0
	for _, im := range imgs {
		if im.URI != "" && im.Width <= 1200 && im.Width > bw {
			best, bw = im.URI, im.Width
		}
	}
	return best
}

func rgba(c *discovery.Color) color.Color {
	if c == nil {
		return nil
	}
	return color.NRGBA{R: c.R, G: c.G, B: c.B, A: c.A}
}

// gatewayTheme applies a gateway template's colours over the app theme.
type gatewayTheme struct {
	fyne.Theme
	body, button, buttonFont, link color.Color
}

func (t *gatewayTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameForeground:
		if t.body != nil {
			return t.body
		}
	case theme.ColorNamePrimary, theme.ColorNameButton:
		if t.button != nil {
			return t.button
		}
	case theme.ColorNameForegroundOnPrimary:
		if t.buttonFont != nil {
			return t.buttonFont
		}
	case theme.ColorNameHyperlink:
		if t.link != nil {
			return t.link
		}
	}
	return t.Theme.Color(n, v)
}

// newRemoteImage shows an image fetched through the session (a blank box
// of the same size until it arrives, or when it cannot be fetched).
func newRemoteImage(u *UI, url string, size fyne.Size) fyne.CanvasObject {
	box := container.NewGridWrap(size)
	u.fetchInto(box, url, hostOf(url))
	return box
}

// fetchInto replaces box's content with the image at url once it is
// fetched; box keeps what it shows when there is no session or the fetch
// fails.
func (u *UI) fetchInto(box *fyne.Container, url, name string) {
	sess := u.sess
	if sess == nil || url == "" {
		return
	}
	u.goDo(func(ctx context.Context) func() {
		b, err := sess.Fetch(ctx, url)
		if err != nil {
			u.log.Info("image not loaded", "name", name, "err", err)
			return nil
		}
		return func() {
			img := canvas.NewImageFromResource(fyne.NewStaticResource(name, b))
			img.FillMode = canvas.ImageFillContain
			box.Objects = []fyne.CanvasObject{img}
			box.Refresh()
		}
	})
}

// newLogo is an operator's logo: its image when it loads, else a coloured
// monogram.
func newLogo(u *UI, brand, url string) fyne.CanvasObject {
	size := fyne.NewSize(48, 48)
	initial := "?"
	for _, r := range brand {
		initial = string(r)
		break
	}
	circle := canvas.NewCircle(monogramColour(brand))
	txt := canvas.NewText(initial, color.White)
	txt.TextStyle.Bold = true
	txt.TextSize = 22
	txt.Alignment = fyne.TextAlignCenter
	box := container.NewGridWrap(size, container.NewStack(circle, container.NewCenter(txt)))
	u.fetchInto(box, url, "logo-"+brand)
	return box
}

// monogramColour picks a stable colour for a brand.
func monogramColour(brand string) color.Color {
	palette := []color.NRGBA{{0x00, 0x78, 0xd4, 0xff}, {0x10, 0x7c, 0x10, 0xff}, {0xc2, 0x39, 0xb3, 0xff},
		{0xca, 0x50, 0x10, 0xff}, {0x5c, 0x2d, 0x91, 0xff}, {0x00, 0x83, 0x8f, 0xff}}
	var h uint32
	for _, r := range brand {
		h = h*31 + uint32(r)
	}
	return palette[h%uint32(len(palette))]
}

// countryName names an ISO 3166 alpha-2 code for the common cases; other
// codes are shown as they are.
func countryName(cc string) string {
	names := map[string]string{"US": "the United States", "GB": "the United Kingdom", "DE": "Germany", "FR": "France",
		"ES": "Spain", "IT": "Italy", "NL": "the Netherlands", "CA": "Canada", "JP": "Japan", "AU": "Australia",
		"IN": "India", "BR": "Brazil", "MX": "Mexico", "SE": "Sweden", "CH": "Switzerland", "IE": "Ireland"}
	if n, ok := names[cc]; ok {
		return n
	}
	if cc == "" {
		return "your country"
	}
	return cc
}
