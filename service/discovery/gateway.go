package discovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Color is an RGBA colour of the enhanced gateway page, written
// "0xRRGGBBAA" in JSON (mobile-plans.md 6.3).
type Color struct{ R, G, B, A uint8 }

// ParseColor parses "0xRRGGBBAA" (hex digits in either case).
func ParseColor(s string) (Color, error) {
	if len(s) != 10 || (s[:2] != "0x" && s[:2] != "0X") {
		return Color{}, fmt.Errorf("colour %q is not of the form 0xRRGGBBAA", s)
	}
	v, err := strconv.ParseUint(s[2:], 16, 32)
	if err != nil {
		return Color{}, fmt.Errorf("colour %q is not of the form 0xRRGGBBAA", s)
	}
	return Color{R: uint8(v >> 24), G: uint8(v >> 16), B: uint8(v >> 8), A: uint8(v)}, nil
}

// String returns "0xRRGGBBAA" with upper-case hex digits.
func (c Color) String() string {
	return fmt.Sprintf("0x%02X%02X%02X%02X", c.R, c.G, c.B, c.A)
}

// MarshalText implements encoding.TextMarshaler.
func (c Color) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *Color) UnmarshalText(b []byte) error {
	v, err := ParseColor(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Gateway is the enhanced gateway page configuration of one operator: the
// JSON document {"promotionTemplates":[...]} of mobile-plans.md 6.3.
type Gateway struct {
	PromotionTemplates []GatewayTemplate `json:"promotionTemplates"`
}

// DefaultTemplateID is the template shown when GetOffers picks none.
const DefaultTemplateID = "0"

// GatewayTemplate is one gateway page variant. Unset colours (nil) mean
// the app's defaults (background white, body text black, button and
// hyperlink in the system accent colour, button text white).
type GatewayTemplate struct {
	// ID is the template id; "0" is the default. JSON numbers are accepted
	// on input and written back as strings.
	ID                 string         `json:"id"`
	BackgroundColor    *Color         `json:"backgroundColor,omitempty"`
	BodyFontColor      *Color         `json:"bodyFontColor,omitempty"`
	BodyText           string         `json:"bodyText,omitempty"`
	ButtonColor        *Color         `json:"buttonColor,omitempty"`
	ButtonFontColor    *Color         `json:"buttonFontColor,omitempty"`
	ButtonText         string         `json:"buttonText,omitempty"`
	HyperlinkFontColor *Color         `json:"hyperlinkFontColor,omitempty"`
	Images             []GatewayImage `json:"images,omitempty"`
}

// GatewayImage is one size of the gateway picture (PNG, at most 1200x600).
type GatewayImage struct {
	URI    string `json:"uri"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// Limits of gateway templates.
const (
	maxTemplates       = 32
	maxTemplateIDLen   = 64
	maxBodyTextLen     = 2000
	maxButtonTextLen   = 64
	maxImages          = 8
	maxImageWidth      = 1200
	maxImageHeight     = 600
	maxGatewayDocBytes = 256 << 10
)

// UnmarshalJSON accepts the id as a JSON string or a non-negative integer
// and the older field name hyperlinkColor for hyperlinkFontColor; a bad
// colour gives a *FieldError naming its field.
func (t *GatewayTemplate) UnmarshalJSON(b []byte) error {
	var raw struct {
		ID                 json.RawMessage `json:"id"`
		BackgroundColor    *string         `json:"backgroundColor"`
		BodyFontColor      *string         `json:"bodyFontColor"`
		BodyText           string          `json:"bodyText"`
		ButtonColor        *string         `json:"buttonColor"`
		ButtonFontColor    *string         `json:"buttonFontColor"`
		ButtonText         string          `json:"buttonText"`
		HyperlinkFontColor *string         `json:"hyperlinkFontColor"`
		HyperlinkColor     *string         `json:"hyperlinkColor"`
		Images             []GatewayImage  `json:"images"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return &FieldError{Field: te.Field, Reason: fmt.Sprintf("cannot hold a JSON %s", te.Value)}
		}
		return err
	}
	id, err := templateID(raw.ID)
	if err != nil {
		return &FieldError{Field: "id", Reason: err.Error()}
	}
	out := GatewayTemplate{ID: id, BodyText: raw.BodyText, ButtonText: raw.ButtonText}
	if len(raw.Images) > 0 {
		out.Images = raw.Images
	}
	if raw.HyperlinkFontColor == nil {
		raw.HyperlinkFontColor = raw.HyperlinkColor
	}
	for _, c := range []struct {
		name string
		src  *string
		dst  **Color
	}{
		{"backgroundColor", raw.BackgroundColor, &out.BackgroundColor},
		{"bodyFontColor", raw.BodyFontColor, &out.BodyFontColor},
		{"buttonColor", raw.ButtonColor, &out.ButtonColor},
		{"buttonFontColor", raw.ButtonFontColor, &out.ButtonFontColor},
		{"hyperlinkFontColor", raw.HyperlinkFontColor, &out.HyperlinkFontColor},
	} {
		if c.src == nil {
			continue
		}
		v, err := ParseColor(*c.src)
		if err != nil {
			return &FieldError{Field: c.name, Reason: err.Error()}
		}
		*c.dst = &v
	}
	*t = out
	return nil
}

// templateID reads an id given as a JSON string or an integer.
func templateID(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n uint64
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("id %s is neither a string nor a non-negative integer", raw)
	}
	return strconv.FormatUint(n, 10), nil
}

// ParseGateway decodes and validates an enhanced gateway page document.
// Unknown fields are ignored (forward compatibility); invalid values give
// a *FieldError naming the field, e.g. "promotionTemplates[1].buttonColor".
func ParseGateway(b []byte) (*Gateway, error) {
	if len(b) > maxGatewayDocBytes {
		return nil, fmt.Errorf("gateway document larger than %d bytes", maxGatewayDocBytes)
	}
	var raw struct {
		PromotionTemplates []json.RawMessage `json:"promotionTemplates"`
	}
	if err := decodeOne(b, &raw); err != nil {
		return nil, fmt.Errorf("gateway document: %w", err)
	}
	if len(raw.PromotionTemplates) > maxTemplates {
		return nil, fieldErr("promotionTemplates", "more than %d templates", maxTemplates)
	}
	g := &Gateway{PromotionTemplates: make([]GatewayTemplate, len(raw.PromotionTemplates))}
	for i, r := range raw.PromotionTemplates {
		if err := json.Unmarshal(r, &g.PromotionTemplates[i]); err != nil {
			f := fmt.Sprintf("promotionTemplates[%d]", i)
			var fe *FieldError
			if errors.As(err, &fe) {
				return nil, &FieldError{Field: f + "." + fe.Field, Reason: fe.Reason}
			}
			return nil, fieldErr(f, "%v", err)
		}
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}

// decodeOne decodes exactly one JSON value from b into v.
func decodeOne(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON value")
	}
	return nil
}

// Validate checks the templates: at least one, unique non-empty ids, one
// with id "0", texts within limits and images as https PNG sizes no larger
// than 1200x600.
func (g *Gateway) Validate() error {
	if len(g.PromotionTemplates) == 0 {
		return fieldErr("promotionTemplates", "at least one template is required")
	}
	if len(g.PromotionTemplates) > maxTemplates {
		return fieldErr("promotionTemplates", "more than %d templates", maxTemplates)
	}
	seen := make(map[string]bool, len(g.PromotionTemplates))
	for i, t := range g.PromotionTemplates {
		f := fmt.Sprintf("promotionTemplates[%d]", i)
		if t.ID == "" || len(t.ID) > maxTemplateIDLen || !printable(t.ID) || strings.TrimSpace(t.ID) != t.ID {
			return fieldErr(f+".id", "must be 1-%d printable characters", maxTemplateIDLen)
		}
		if seen[t.ID] {
			return fieldErr(f+".id", "duplicate template id %q", t.ID)
		}
		seen[t.ID] = true
		if utf8.RuneCountInString(t.BodyText) > maxBodyTextLen || !utf8.ValidString(t.BodyText) {
			return fieldErr(f+".bodyText", "longer than %d characters", maxBodyTextLen)
		}
		if utf8.RuneCountInString(t.ButtonText) > maxButtonTextLen || !printable(t.ButtonText) {
			return fieldErr(f+".buttonText", "must be at most %d printable characters", maxButtonTextLen)
		}
		if len(t.Images) > maxImages {
			return fieldErr(f+".images", "more than %d images", maxImages)
		}
		for j, im := range t.Images {
			fi := fmt.Sprintf("%s.images[%d]", f, j)
			if err := checkHTTPSURL(im.URI); err != nil {
				return fieldErr(fi+".uri", "%v", err)
			}
			if im.Width < 1 || im.Width > maxImageWidth || im.Height < 1 || im.Height > maxImageHeight {
				return fieldErr(fi, "%dx%d, want at most %dx%d", im.Width, im.Height, maxImageWidth, maxImageHeight)
			}
		}
	}
	if !seen[DefaultTemplateID] {
		return fieldErr("promotionTemplates", "no default template (id %q)", DefaultTemplateID)
	}
	return nil
}

// Template returns the template with the given id.
func (g *Gateway) Template(id string) (GatewayTemplate, bool) {
	for _, t := range g.PromotionTemplates {
		if t.ID == id {
			return t.clone(), true
		}
	}
	return GatewayTemplate{}, false
}

func (g Gateway) clone() Gateway {
	out := Gateway{PromotionTemplates: make([]GatewayTemplate, len(g.PromotionTemplates))}
	for i, t := range g.PromotionTemplates {
		out.PromotionTemplates[i] = t.clone()
	}
	return out
}

func (t GatewayTemplate) clone() GatewayTemplate {
	c := t
	for _, p := range []**Color{&c.BackgroundColor, &c.BodyFontColor, &c.ButtonColor, &c.ButtonFontColor, &c.HyperlinkFontColor} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	c.Images = slices.Clone(t.Images)
	return c
}
