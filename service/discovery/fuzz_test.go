package discovery

import (
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"", "mcc=001", "mcc=310&country=us", "iccids=" + contosoICCID + "F," + smdpICCID,
		"eid=89049032000001000000000000000001&make=Contoso%20PCs&model=X1", "mcc=1&mcc=2", "country=%FF",
		"iccids=,", "make=+a+", "model=%00", "future=1&country=DE",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(v)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("error %v is not a FieldError naming a parameter", err)
			}
			return
		}
		if q.MCC != "" && !validMCC(q.MCC) || q.Country != "" && !validCountry(q.Country) || q.EID != "" && len(q.EID) != eidLen {
			t.Fatalf("non-canonical %+v", q)
		}
		for _, i := range q.ICCIDs {
			if _, err := normICCID("iccids", i); err != nil || strings.HasSuffix(i, "F") {
				t.Fatalf("bad ICCID %q", i)
			}
		}
		back, err := ParseQuery(q.Values())
		if err != nil || !reflect.DeepEqual(back, q) {
			t.Fatalf("round trip %+v -> %+v, %v", q, back, err)
		}
	})
}

func FuzzParseGateway(f *testing.F) {
	f.Add([]byte(docExample))
	f.Add([]byte(`{"promotionTemplates":[{"id":"0"},{"id":1,"hyperlinkColor":"0x112233FF"}]}`))
	f.Add([]byte(`{"promotionTemplates":[{"id":"0","buttonColor":"#fff"}]}`))
	f.Add([]byte(`{"promotionTemplates":[{"id":"0","images":[{"uri":"https://x.example/a.png","width":1200,"height":600}]}]}`))
	f.Add([]byte(`{"promotionTemplates":null}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := ParseGateway(b)
		if err != nil {
			return
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("accepted an invalid document: %v", err)
		}
		if _, ok := g.Template(DefaultTemplateID); !ok {
			t.Fatal("no default template")
		}
		out, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		g2, err := ParseGateway(out)
		if err != nil || !reflect.DeepEqual(g, g2) {
			t.Fatalf("round trip: %v\n%s", err, out)
		}
	})
}

func FuzzParseBalanceResponse(f *testing.F) {
	for _, s := range []string{
		`{"balances":[{"id":"23445","type":"MODIRECTPAYG","dataRemaininginMB":123.0,"timeRemaining":"P23DT23H"}]}`,
		`{"balances":[{"type":"MODIRECTPAYG","dataRemainingInMB":0,"timeRemaining":"PT0S"}]}`,
		`{"balances":[{"type":"NONE"},{"type":"NOTSUPPORTED"}]}`,
		`{"balances":[{"type":"MODIRECT","id":5}]}`,
		`{"balances":[{"type":"MODIRECTPAYG","dataRemainingInMB":-1}]}`,
		`{"balances":[]}`, `{}`, `null`,
	} {
		f.Add([]byte(s))
	}
	from := time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		bals, err := parseBalanceResponse(b, from)
		if err != nil {
			return
		}
		for _, bal := range bals {
			switch bal.Type {
			case BalanceMODirect, BalanceMODirectPAYG, BalanceNone, BalanceNotSupported:
			default:
				t.Fatalf("type %q", bal.Type)
			}
			if bal.DataMB != nil && *bal.DataMB < 0 {
				t.Fatalf("negative data %v", *bal.DataMB)
			}
			if (bal.Duration != nil) != (bal.TimeRemaining != "") {
				t.Fatalf("duration %v for %q", bal.Duration, bal.TimeRemaining)
			}
			if bal.Duration != nil && *bal.Duration < 0 {
				t.Fatalf("negative duration %v", *bal.Duration)
			}
		}
	})
}

func FuzzParseOffersResponse(f *testing.F) {
	for _, s := range []string{`{"offers":[{"gatewayId":"0"}]}`, `{"offers":[{"gatewayId":12}]}`, `{"offers":[]}`, `{"offers":[{}]}`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := parseOffersResponse(b)
		if err != nil || id == "" {
			return
		}
		doc, err := json.Marshal(map[string]any{"offers": []map[string]string{{"gatewayId": id}}})
		if err != nil {
			t.Fatal(err)
		}
		if back, err := parseOffersResponse(doc); err != nil || back != id {
			t.Fatalf("%q -> %q -> %q, %v", b, id, back, err)
		}
	})
}

func FuzzParseISODuration(f *testing.F) {
	for _, s := range []string{"PT0S", "P23DT23H", "P1Y2M3W4DT5H6M7.5S", "PT0,5S", "P1.5D", "P290Y", "P291Y", "PT", "-P1D", "P1DT1H1M1S"} {
		f.Add(s)
	}
	from := time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseISODuration(s, from)
		if err != nil {
			return
		}
		if d < 0 || !strings.HasPrefix(s, "P") {
			t.Fatalf("%q -> %v", s, d)
		}
		// Only clock parts: the value does not depend on the start instant.
		if !strings.ContainsAny(strings.SplitN(s, "T", 2)[0], "YMWD") {
			d2, err := parseISODuration(s, from.AddDate(0, 7, 3))
			if err != nil || d2 != d {
				t.Fatalf("%q: %v then %v, %v", s, d, d2, err)
			}
		}
	})
}

func FuzzParseColor(f *testing.F) {
	for _, s := range []string{"0x00B0F0FF", "0xffffffff", "#000000FF", "0x-1234567", "0x1234567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseColor(s)
		if err != nil {
			return
		}
		if !strings.EqualFold(c.String(), s) {
			t.Fatalf("%q -> %s", s, c)
		}
	})
}
