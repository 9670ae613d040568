package discovery

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
)

// Ids of the seeded operators.
const (
	ContosoID   = "contoso"
	FabrikamID  = "fabrikam"
	NorthwindID = "northwind"
)

// ContosoICCIDPrefix is Contoso Cellular's ICCID range; the seed also gives
// Contoso the prefix 8900101 of the bundled SM-DP+'s generated inventory
// (service/smdp DefaultICCIDPrefix).
const ContosoICCIDPrefix = "894447650000"

// DefaultMCCCountries returns the built-in serving MCC to country map: the
// test network MCC 001 counts as the United States (Contoso's test
// network), 310-316 are the United States, 234 and 235 the United Kingdom,
// 262 Germany. Config.MCCCountries extends or overrides it.
func DefaultMCCCountries() map[string]string {
	return map[string]string{
		"001": "US",
		"310": "US", "311": "US", "312": "US", "313": "US", "314": "US", "315": "US", "316": "US",
		"234": "GB", "235": "GB",
		"262": "DE",
	}
}

// SeedOperators returns the operators a fresh catalog is seeded with when
// Config.Seed is set: Contoso Cellular (US), Fabrikam Mobile (GB) and
// Northwind Telecom (DE), each with a generated 300x300 PNG logo, gateway
// templates and APN settings. Their URLs use the reserved .test domain;
// Config.Overrides points them at real addresses.
func SeedOperators() []Operator {
	white := &Color{0xFF, 0xFF, 0xFF, 0xFF}
	return []Operator{
		{
			ID:           ContosoID,
			Brand:        "Contoso Cellular",
			Logo:         makeLogo(color.RGBA{0x00, 0x5A, 0x9E, 0xFF}, color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}, shapeRing),
			PortalURL:    "https://portal.contoso.test/mobileplans",
			CallbackHost: "portal.contoso.test",
			Countries:    []string{"US"},
			ICCIDRanges:  []ICCIDRange{{Prefix: ContosoICCIDPrefix}, {Prefix: "8900101"}},
			Gateway: &Gateway{PromotionTemplates: []GatewayTemplate{
				{
					ID: "0", BackgroundColor: &Color{0x00, 0x00, 0x00, 0xFF}, BodyFontColor: white,
					BodyText:   "Stay connected anywhere with Contoso Cellular. Pick a plan and get online in minutes.",
					ButtonText: "Get started", ButtonColor: &Color{0x00, 0xB0, 0xF0, 0xFF}, ButtonFontColor: white,
					HyperlinkFontColor: &Color{0x00, 0xB0, 0xF0, 0xFF},
				},
				{
					ID: "1", BackgroundColor: &Color{0x00, 0x5A, 0x9E, 0xFF}, BodyFontColor: white,
					BodyText:   "Welcome back! Top up your Contoso Cellular plan or add more data.",
					ButtonText: "Manage my plan", ButtonColor: white, ButtonFontColor: &Color{0x00, 0x5A, 0x9E, 0xFF},
				},
			}},
			APNs: []APN{
				{Name: "internet.contoso", AuthType: AuthNone, IPType: IPv4v6, RoamingAllowed: true},
				{Name: "test.contoso", AuthType: AuthNone, IPType: IPv4, RoamingAllowed: false, MCCMNCs: []string{"00101"}},
				{Name: "prepaid.contoso", AuthType: AuthPAP, Username: "contoso", Password: "contoso", IPType: IPv4v6,
					RoamingAllowed: false, MCCMNCs: []string{"00101"}, ICCIDRanges: []ICCIDRange{{Prefix: "8900101"}}},
			},
			MOBaseURL:        "https://api.contoso.test/v1",
			OffersURI:        "https://api.contoso.test/v1/",
			NotificationsURI: "https://api.contoso.test/v1/",
		},
		{
			ID:           FabrikamID,
			Brand:        "Fabrikam Mobile",
			Logo:         makeLogo(color.RGBA{0xC8, 0x10, 0x2E, 0xFF}, color.RGBA{0xFF, 0xD7, 0x00, 0xFF}, shapeDiamond),
			PortalURL:    "https://portal.fabrikam.test/plans",
			CallbackHost: "portal.fabrikam.test",
			Countries:    []string{"GB"},
			ICCIDRanges:  []ICCIDRange{{From: "8944200000", To: "8944299999"}},
			Gateway: &Gateway{PromotionTemplates: []GatewayTemplate{{
				ID: "0", BackgroundColor: &Color{0xFF, 0xFF, 0xFF, 0xFF}, BodyFontColor: &Color{0x20, 0x20, 0x20, 0xFF},
				BodyText:   "Fabrikam Mobile: flexible data for your PC, no contract.",
				ButtonText: "Continue", ButtonColor: &Color{0xC8, 0x10, 0x2E, 0xFF}, ButtonFontColor: white,
			}}},
			APNs: []APN{
				{Name: "mobile.fabrikam", AuthType: AuthCHAP, Username: "fabrikam", Password: "web", IPType: IPv4,
					RoamingAllowed: false, MCCMNCs: []string{"23499", "23599"}},
			},
			MOBaseURL: "https://api.fabrikam.test/mo/v1",
		},
		{
			ID:           NorthwindID,
			Brand:        "Northwind Telecom",
			Logo:         makeLogo(color.RGBA{0x1B, 0x5E, 0x20, 0xFF}, color.RGBA{0xE8, 0xF5, 0xE9, 0xFF}, shapeTriangle),
			PortalURL:    "https://shop.northwind.test/esim",
			CallbackHost: "shop.northwind.test",
			Countries:    []string{"DE"},
			ICCIDRanges:  []ICCIDRange{{Prefix: "8949262"}},
			EIDDeny:      []string{"89049032"},
			Gateway: &Gateway{PromotionTemplates: []GatewayTemplate{
				{ID: "0", BodyText: "Northwind Telecom: mobiles Internet für Ihren PC.", ButtonText: "Los geht's"},
				{ID: "spring", BackgroundColor: &Color{0xE8, 0xF5, 0xE9, 0xFF}, BodyText: "Frühlingsangebot: doppeltes Datenvolumen.",
					ButtonText: "Angebot ansehen", ButtonColor: &Color{0x1B, 0x5E, 0x20, 0xFF}, ButtonFontColor: white},
			}},
			APNs: []APN{
				{Name: "web.northwind", AuthType: AuthNone, IPType: IPv6, RoamingAllowed: true, MCCMNCs: []string{"26299"}},
			},
			MOBaseURL: "https://mo.northwind.test/api/v1",
			OffersURI: "https://mo.northwind.test/api/v1/",
		},
	}
}

type logoShape int

const (
	shapeRing logoShape = iota
	shapeDiamond
	shapeTriangle
)

// logoSide is the logo size asked of operators (mobile-plans.md 6.2:
// 300x300, full bleed, no transparency).
const logoSide = 300

// makeLogo draws an opaque logoSide-square PNG: a background with a shape.
func makeLogo(bg, fg color.RGBA, shape logoShape) []byte {
	img := image.NewRGBA(image.Rect(0, 0, logoSide, logoSide))
	const c = logoSide / 2
	for y := 0; y < logoSide; y++ {
		for x := 0; x < logoSide; x++ {
			dx, dy := x-c, y-c
			in := false
			switch shape {
			case shapeRing:
				d := dx*dx + dy*dy
				in = d <= 100*100 && d >= 60*60
			case shapeDiamond:
				in = abs(dx)+abs(dy) <= 100
			case shapeTriangle:
				// Apex up, base at y = c+80, half-width 100 at the base.
				in = dy >= -90 && dy <= 80 && abs(dx)*170 <= (dy+90)*100
			}
			if in {
				img.SetRGBA(x, y, fg)
			} else {
				img.SetRGBA(x, y, bg)
			}
		}
	}
	var b bytes.Buffer
	// Encoding an in-memory RGBA image into a buffer cannot fail.
	if err := png.Encode(&b, img); err != nil {
		panic("discovery: encode logo: " + err.Error())
	}
	return b.Bytes()
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
