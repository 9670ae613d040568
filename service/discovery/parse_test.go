package discovery

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseISODuration(t *testing.T) {
	from := time.Date(2025, 2, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"PT0S", 0, true},
		{"P0D", 0, true},
		{"P23DT23H", 23*day + 23*time.Hour, true},
		{"PT1H30M", 90 * time.Minute, true},
		{"PT90M", 90 * time.Minute, true},
		{"PT36H", 36 * time.Hour, true},
		{"P1W", 7 * day, true},
		{"P1M", 28 * day, true},           // February 2025
		{"P1Y", 365 * day, true},          // 2025-02-01 to 2026-02-01
		{"P1Y1M", (365 + 28) * day, true}, // to 2026-03-01
		{"P1DT0.5S", day + 500*time.Millisecond, true},
		{"PT0,25S", 250 * time.Millisecond, true},
		{"PT1.5H", 90 * time.Minute, true},
		{"P1.5D", 36 * time.Hour, true},
		{"PT0.0000000019S", 1, true}, // fraction beyond nanoseconds truncated
		{"P290Y", from.AddDate(290, 0, 0).Sub(from), true},
		{"", 0, false},
		{"P", 0, false},
		{"PT", 0, false},
		{"P1DT", 0, false},
		{"1D", 0, false},
		{"p1d", 0, false},
		{"-P1D", 0, false},
		{"P-1D", 0, false},
		{"P1H", 0, false},       // H without T
		{"PT1D", 0, false},      // D in the time part
		{"PT1S1M", 0, false},    // order
		{"P1D1D", 0, false},     // repeated
		{"P1M1Y", 0, false},     // order
		{"PT1.5M30S", 0, false}, // fraction not last
		{"P1.5Y", 0, false},     // fraction on years
		{"P1.5W", 0, false},     // fraction on weeks
		{"PT1.S", 0, false},     // fraction without digits
		{"PT1", 0, false},       // no designator
		{"PTT1S", 0, false},
		{"P1DTT1S", 0, false},
		{"PT1S ", 0, false},
		{"P291Y", 0, false},             // too large for time.Duration
		{"PT9999999999999S", 0, false},  // number too long
		{"PT999999999999H", 0, false},   // overflow
		{"P106000DT2562047H", 0, false}, // overflow in the sum
	}
	for _, tt := range tests {
		got, err := parseISODuration(tt.in, from)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseISODuration(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		raw   string
		want  Query
		param string // non-empty: the error names this parameter
	}{
		{"", Query{}, ""},
		{"mcc=001&country=us&iccids=" + contosoICCID + "f," + smdpICCID + "," + contosoICCID + "&eid=89049032000001000000000000000001&make=+Contoso+PCs+&model=X1&future=1",
			Query{MCC: "001", Country: "US", ICCIDs: []string{contosoICCID, smdpICCID}, EID: "89049032000001000000000000000001", Make: "Contoso PCs", Model: "X1"}, ""},
		{"mcc=1", Query{}, "mcc"},
		{"mcc=0010", Query{}, "mcc"},
		{"country=u", Query{}, "country"},
		{"country=us&country=de", Query{}, "country"},
		{"iccids=", Query{}, ""},
		{"iccids=" + contosoICCID + "&iccids=" + smdpICCID, Query{}, "iccids"},
		{"iccids=894447650000123456", Query{}, "iccids"},    // 18 digits
		{"iccids=894447650000123456789", Query{}, "iccids"}, // 21 digits
		{"iccids=" + contosoICCID + "FF", Query{}, "iccids"},
		{"eid=8904903200000100000000000000000", Query{}, "eid"},
		{"make=%FF", Query{}, "make"},
	}
	for _, tt := range tests {
		v, err := url.ParseQuery(tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParseQuery(v)
		if tt.param != "" {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.param {
				t.Errorf("%q: error %v, want one for %s", tt.raw, err, tt.param)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(q, tt.want) {
			t.Errorf("%q: got %+v, %v; want %+v", tt.raw, q, err, tt.want)
			continue
		}
		back, err := ParseQuery(q.Values())
		if err != nil || !reflect.DeepEqual(back, q) {
			t.Errorf("%q: Values round trip gave %+v, %v", tt.raw, back, err)
		}
	}
	t.Run("too many ICCIDs", func(t *testing.T) {
		var list []string
		for i := range maxICCIDs + 1 {
			list = append(list, "89444765000012345"+string(rune('0'+i/10))+string(rune('0'+i%10)))
		}
		_, err := ParseQuery(Query{ICCIDs: list}.Values())
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "iccids" {
			t.Errorf("error %v", err)
		}
	})
}

func TestParseBalanceResponse(t *testing.T) {
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f := func(v float64) *float64 { return &v }
	d := func(v time.Duration) *time.Duration { return &v }
	tests := []struct {
		name string
		doc  string
		want []moBalance
		ok   bool
	}{
		{"doc example (dataRemaininginMB)", `{"balances":[{"id":"23445","type":"MODIRECTPAYG","dataRemaininginMB":123.0,"timeRemaining":"P23DT23H"}]}`,
			[]moBalance{{ID: "23445", Type: BalanceMODirectPAYG, DataMB: f(123), TimeRemaining: "P23DT23H", Duration: d(575 * time.Hour)}}, true},
		{"table spelling", `{"balances":[{"type":"MODIRECTPAYG","dataRemainingInMB":0.5}]}`,
			[]moBalance{{Type: BalanceMODirectPAYG, DataMB: f(0.5)}}, true},
		{"both spellings: InMB wins", `{"balances":[{"type":"MODIRECTPAYG","dataRemaininginMB":1,"dataRemainingInMB":2}]}`,
			[]moBalance{{Type: BalanceMODirectPAYG, DataMB: f(2)}}, true},
		{"zero balance", `{"balances":[{"type":"MODIRECTPAYG","dataRemainingInMB":0,"timeRemaining":"PT0S"}]}`,
			[]moBalance{{Type: BalanceMODirectPAYG, DataMB: f(0), TimeRemaining: "PT0S", Duration: d(0)}}, true},
		{"numeric id, lower-case type", `{"balances":[{"id":7,"type":"none"}]}`, []moBalance{{ID: "7", Type: BalanceNone}}, true},
		{"empty list", `{"balances":[]}`, []moBalance{}, true},
		{"no balances", `{}`, nil, false},
		{"unknown type", `{"balances":[{"type":"PAYG"}]}`, nil, false},
		{"negative data", `{"balances":[{"type":"MODIRECTPAYG","dataRemainingInMB":-1}]}`, nil, false},
		{"bad duration", `{"balances":[{"type":"MODIRECTPAYG","timeRemaining":"23 days"}]}`, nil, false},
		{"data as string", `{"balances":[{"type":"MODIRECTPAYG","dataRemainingInMB":"12"}]}`, nil, false},
		{"trailing data", `{"balances":[]}x`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBalanceResponse([]byte(tt.doc), from)
			if (err == nil) != tt.ok {
				t.Fatalf("error %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseOffersResponse(t *testing.T) {
	tests := []struct {
		doc, want string
		ok        bool
	}{
		{`{"offers":[{"gatewayId":"0"}]}`, "0", true},
		{`{"offers":[{"gatewayId":3},{"gatewayId":"4"}]}`, "3", true},
		{`{"offers":[]}`, "", true},
		{`{"offers":[{}]}`, "", false},
		{`{"offers":[{"gatewayId":true}]}`, "", false},
		{`{}`, "", false},
		{`[]`, "", false},
	}
	for _, tt := range tests {
		got, err := parseOffersResponse([]byte(tt.doc))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q ok=%v", tt.doc, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"30", 30 * time.Second},
		{" 5 ", 5 * time.Second},
		{"0", 0},
		{"-3", 0},
		{"soon", 0},
		{"", 0},
		{"Wed, 01 Jan 2025 00:02:00 GMT", 2 * time.Minute},
		{"Tue, 31 Dec 2024 23:00:00 GMT", 0},
		{"99999999999999999999", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestMOMessage(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"message":"location: unsupported value"}`, "location: unsupported value"},
		{`{"error":"bad limit"}`, "bad limit"},
		{`{"error":{"message":"bad location"}}`, "bad location"},
		{"plain\ttext\x00with\ncontrols", "plain text with controls"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := moMessage([]byte(tt.in)); got != tt.want {
			t.Errorf("moMessage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := moMessage([]byte(strings.Repeat("a", 500)))
	if len([]rune(long)) != maxMOMessage+1 {
		t.Errorf("long message has %d runes", len([]rune(long)))
	}
}
