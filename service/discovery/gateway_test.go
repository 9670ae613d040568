package discovery

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseColor(t *testing.T) {
	tests := []struct {
		in   string
		want Color
		ok   bool
	}{
		{"0x000000FF", Color{0, 0, 0, 0xFF}, true},
		{"0x00B0F0FF", Color{0x00, 0xB0, 0xF0, 0xFF}, true},
		{"0xffffff80", Color{0xFF, 0xFF, 0xFF, 0x80}, true},
		{"0X12345678", Color{0x12, 0x34, 0x56, 0x78}, true},
		{"0x000000", Color{}, false},        // no alpha
		{"0x000000FFF", Color{}, false},     // too long
		{"#000000FF", Color{}, false},       // CSS form
		{"000000FFxx", Color{}, false},      // no 0x
		{"0xGG0000FF", Color{}, false},      // not hex
		{"0x-0000000", Color{}, false},      // sign
		{"0x+0000000", Color{}, false},      // sign
		{"0x0000 0FF", Color{}, false},      // space
		{"", Color{}, false},                // empty
		{"0x00B0F0FF ", Color{}, false},     // trailing space
		{"0x\u00e900B0F0F", Color{}, false}, // non-ASCII
	}
	for _, tt := range tests {
		got, err := ParseColor(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseColor(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if tt.ok && !strings.EqualFold(got.String(), tt.in) {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
}

// docExample is the document of mobile-plans.md 6.3 (numeric id).
const docExample = `{"promotionTemplates":[{ "id":0, "backgroundColor":"0x000000FF", "bodyFontColor":"0xFFFFFFFF",
 "bodyText":"Stay connected", "buttonColor":"0x00B0F0FF", "buttonFontColor":"0xFFFFFFFF", "buttonText":"Get started",
 "hyperlinkFontColor":"0x00B0F0FF", "images":[{"uri":"https://cdn.example/landing740x480.png","width":740,"height":480}] }]}`

func TestParseGateway(t *testing.T) {
	g, err := ParseGateway([]byte(docExample))
	if err != nil {
		t.Fatal(err)
	}
	want := GatewayTemplate{
		ID: "0", BackgroundColor: &Color{0, 0, 0, 0xFF}, BodyFontColor: &Color{0xFF, 0xFF, 0xFF, 0xFF}, BodyText: "Stay connected",
		ButtonColor: &Color{0, 0xB0, 0xF0, 0xFF}, ButtonFontColor: &Color{0xFF, 0xFF, 0xFF, 0xFF}, ButtonText: "Get started",
		HyperlinkFontColor: &Color{0, 0xB0, 0xF0, 0xFF},
		Images:             []GatewayImage{{URI: "https://cdn.example/landing740x480.png", Width: 740, Height: 480}},
	}
	if len(g.PromotionTemplates) != 1 || !reflect.DeepEqual(g.PromotionTemplates[0], want) {
		t.Fatalf("got %+v", g.PromotionTemplates)
	}
	// Canonical output: string id, upper-case colours; parses back equal.
	out, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"id":"0"`) || !strings.Contains(string(out), `"buttonColor":"0x00B0F0FF"`) {
		t.Errorf("marshalled %s", out)
	}
	g2, err := ParseGateway(out)
	if err != nil || !reflect.DeepEqual(g, g2) {
		t.Errorf("round trip: %v\n%+v\n%+v", err, g, g2)
	}
}

func TestParseGatewayVariants(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		check func(t *testing.T, g *Gateway)
	}{
		{"string ids, several templates", `{"promotionTemplates":[{"id":"0"},{"id":"returning","buttonText":"Top up"}]}`,
			func(t *testing.T, g *Gateway) {
				if tp, ok := g.Template("returning"); !ok || tp.ButtonText != "Top up" {
					t.Errorf("template returning: %+v %v", tp, ok)
				}
			}},
		{"older hyperlinkColor", `{"promotionTemplates":[{"id":"0","hyperlinkColor":"0x112233FF"}]}`,
			func(t *testing.T, g *Gateway) {
				if c := g.PromotionTemplates[0].HyperlinkFontColor; c == nil || *c != (Color{0x11, 0x22, 0x33, 0xFF}) {
					t.Errorf("hyperlink colour %v", c)
				}
			}},
		{"new name wins over old", `{"promotionTemplates":[{"id":"0","hyperlinkColor":"0x112233FF","hyperlinkFontColor":"0x445566FF"}]}`,
			func(t *testing.T, g *Gateway) {
				if c := g.PromotionTemplates[0].HyperlinkFontColor; c == nil || *c != (Color{0x44, 0x55, 0x66, 0xFF}) {
					t.Errorf("hyperlink colour %v", c)
				}
			}},
		{"unset colours stay nil, unknown fields ignored", `{"promotionTemplates":[{"id":"0","future":1}],"other":true}`,
			func(t *testing.T, g *Gateway) {
				if g.PromotionTemplates[0].BackgroundColor != nil {
					t.Error("background colour set")
				}
			}},
		{"null colour is unset", `{"promotionTemplates":[{"id":"0","buttonColor":null}]}`,
			func(t *testing.T, g *Gateway) {
				if g.PromotionTemplates[0].ButtonColor != nil {
					t.Error("button colour set")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := ParseGateway([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, g)
		})
	}
}

func TestParseGatewayRejects(t *testing.T) {
	long := strings.Repeat("x", maxBodyTextLen+1)
	tests := []struct {
		name, doc, field string // field "" = not a *FieldError
	}{
		{"bad colour", `{"promotionTemplates":[{"id":"0","buttonColor":"#00B0F0"}]}`, "promotionTemplates[0].buttonColor"},
		{"colour without alpha", `{"promotionTemplates":[{"id":"0"},{"id":"1","backgroundColor":"0x000000"}]}`, "promotionTemplates[1].backgroundColor"},
		{"colour as number", `{"promotionTemplates":[{"id":"0","bodyFontColor":4294967295}]}`, "promotionTemplates[0].bodyFontColor"},
		{"bad old colour", `{"promotionTemplates":[{"id":"0","hyperlinkColor":"blue"}]}`, "promotionTemplates[0].hyperlinkFontColor"},
		{"no templates", `{"promotionTemplates":[]}`, "promotionTemplates"},
		{"missing array", `{}`, "promotionTemplates"},
		{"no default", `{"promotionTemplates":[{"id":"1"}]}`, "promotionTemplates"},
		{"duplicate id", `{"promotionTemplates":[{"id":"0"},{"id":0}]}`, "promotionTemplates[1].id"},
		{"empty id", `{"promotionTemplates":[{"id":"0"},{"id":""}]}`, "promotionTemplates[1].id"},
		{"missing id", `{"promotionTemplates":[{"id":"0"},{}]}`, "promotionTemplates[1].id"},
		{"negative id", `{"promotionTemplates":[{"id":-1}]}`, "promotionTemplates[0].id"},
		{"object id", `{"promotionTemplates":[{"id":{}}]}`, "promotionTemplates[0].id"},
		{"text as number", `{"promotionTemplates":[{"id":"0","bodyText":5}]}`, "promotionTemplates[0].bodyText"},
		{"body too long", `{"promotionTemplates":[{"id":"0","bodyText":"` + long + `"}]}`, "promotionTemplates[0].bodyText"},
		{"button text control char", `{"promotionTemplates":[{"id":"0","buttonText":"a\u0007"}]}`, "promotionTemplates[0].buttonText"},
		{"image too wide", `{"promotionTemplates":[{"id":"0","images":[{"uri":"https://x.example/a.png","width":1201,"height":600}]}]}`, "promotionTemplates[0].images[0]"},
		{"image too tall", `{"promotionTemplates":[{"id":"0","images":[{"uri":"https://x.example/a.png","width":740,"height":601}]}]}`, "promotionTemplates[0].images[0]"},
		{"image over http", `{"promotionTemplates":[{"id":"0","images":[{"uri":"http://x.example/a.png","width":740,"height":480}]}]}`, "promotionTemplates[0].images[0].uri"},
		{"not JSON", `promotionTemplates`, ""},
		{"trailing data", `{"promotionTemplates":[{"id":"0"}]} {}`, ""},
		{"array", `[]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := ParseGateway([]byte(tt.doc))
			if err == nil {
				t.Fatalf("accepted: %+v", g)
			}
			var fe *FieldError
			if tt.field == "" {
				return
			}
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("error %v, want a FieldError for %s", err, tt.field)
			}
		})
	}
}

func TestOperatorValidation(t *testing.T) {
	base := SeedOperators()[0]
	tests := []struct {
		name   string
		mutate func(o *Operator)
		field  string
	}{
		{"bad id", func(o *Operator) { o.ID = "Contoso" }, "id"},
		{"id starting with dash", func(o *Operator) { o.ID = "-x" }, "id"},
		{"empty brand", func(o *Operator) { o.Brand = "  " }, "brand"},
		{"logo not PNG", func(o *Operator) { o.Logo = []byte("GIF89a") }, "logo"},
		{"http logo URL", func(o *Operator) { o.LogoURL = "http://x.example/l.png" }, "logoUrl"},
		{"http portal", func(o *Operator) { o.PortalURL = "http://portal.contoso.test/" }, "portalUrl"},
		{"portal with credentials", func(o *Operator) { o.PortalURL = "https://u:p@portal.contoso.test/" }, "portalUrl"},
		{"callback host with port", func(o *Operator) { o.CallbackHost = "portal.contoso.test:443" }, "callbackHost"},
		{"callback host with port 0 on localhost", func(o *Operator) { o.CallbackHost = "localhost:0" }, "callbackHost"},
		{"callback host with a bad port on localhost", func(o *Operator) { o.CallbackHost = "localhost:08443" }, "callbackHost"},
		{"callback host with scheme", func(o *Operator) { o.CallbackHost = "https://portal.contoso.test" }, "callbackHost"},
		{"no countries", func(o *Operator) { o.Countries = nil }, "countries"},
		{"bad country", func(o *Operator) { o.Countries = []string{"USA"} }, "countries"},
		{"range prefix not 89", func(o *Operator) { o.ICCIDRanges = []ICCIDRange{{Prefix: "98"}} }, "iccidRanges"},
		{"range both forms", func(o *Operator) { o.ICCIDRanges = []ICCIDRange{{Prefix: "89", From: "890", To: "899"}} }, "iccidRanges"},
		{"range lengths differ", func(o *Operator) { o.ICCIDRanges = []ICCIDRange{{From: "8900", To: "89999"}} }, "iccidRanges"},
		{"range reversed", func(o *Operator) { o.ICCIDRanges = []ICCIDRange{{From: "8999", To: "8900"}} }, "iccidRanges"},
		{"EID prefix not digits", func(o *Operator) { o.EIDAllow = []string{"89a"} }, "eidAllow"},
		{"device filter without make", func(o *Operator) { o.DeviceDeny = []DeviceFilter{{Model: "X"}} }, "deviceDeny"},
		{"gateway without default", func(o *Operator) { o.Gateway = &Gateway{PromotionTemplates: []GatewayTemplate{{ID: "1"}}} }, "gateway.promotionTemplates"},
		{"APN auth", func(o *Operator) { o.APNs = []APN{{Name: "a", AuthType: "mschapv2"}} }, "apns[0].authType"},
		{"APN none with password", func(o *Operator) { o.APNs = []APN{{Name: "a", AuthType: AuthNone, Password: "x"}} }, "apns[0].authType"},
		{"APN IP type", func(o *Operator) { o.APNs = []APN{{Name: "a", IPType: "ipx"}} }, "apns[0].ipType"},
		{"APN name", func(o *Operator) { o.APNs = []APN{{Name: "bad name"}} }, "apns[0].name"},
		{"APN MCCMNC", func(o *Operator) { o.APNs = []APN{{Name: "a", MCCMNCs: []string{"0010"}}} }, "apns[0].mccmncs"},
		{"APN range", func(o *Operator) { o.APNs = []APN{{Name: "a", ICCIDRanges: []ICCIDRange{{}}}} }, "apns[0].iccidRanges"},
		{"http MO base", func(o *Operator) { o.MOBaseURL = "http://api.contoso.test/v1" }, "moBaseUrl"},
		{"offers URI not a URL", func(o *Operator) { o.OffersURI = "::" }, "offersUri"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base.clone()
			tt.mutate(&o)
			_, err := o.normalized()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("error %v, want a FieldError for %s", err, tt.field)
			}
		})
	}
	t.Run("seeds are valid and normalisation is idempotent", func(t *testing.T) {
		for _, op := range SeedOperators() {
			n, err := op.normalized()
			if err != nil {
				t.Fatalf("%s: %v", op.ID, err)
			}
			n2, err := n.normalized()
			if err != nil || !reflect.DeepEqual(n, n2) {
				t.Errorf("%s: not idempotent: %v", op.ID, err)
			}
		}
	})
	t.Run("defaults and canonical case", func(t *testing.T) {
		o := filterOperator("x", " X ")
		o.Countries = []string{"fr", "FR", "de"}
		o.CallbackHost = "X.Example"
		o.APNs = []APN{{Name: "web", AuthType: "PAP", Username: "u"}}
		n, err := o.normalized()
		if err != nil {
			t.Fatal(err)
		}
		if n.Brand != "X" || !reflect.DeepEqual(n.Countries, []string{"FR", "DE"}) || n.CallbackHost != "x.example" ||
			n.APNs[0].AuthType != AuthPAP || n.APNs[0].IPType != IPv4 {
			t.Errorf("normalised %+v", n)
		}
	})
}

func TestCallbackHostOnLoopbackPort(t *testing.T) {
	for _, h := range []string{"localhost:8443", "127.0.0.1:1", "portal.contoso.test"} {
		o := SeedOperators()[0].clone()
		o.CallbackHost = h
		if _, err := o.normalized(); err != nil {
			t.Errorf("callback host %q refused: %v", h, err)
		}
	}
}
