package webkit

import (
	"encoding/json"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
		check   func(line) bool
	}{
		{name: "ok reply", in: `{"id":3,"ok":true,"result":{"url":"https://x/"}}`,
			check: func(l line) bool { return l.ID == 3 && l.OK && string(l.Result) == `{"url":"https://x/"}` }},
		{name: "ok reply without result", in: `{"id":3,"ok":true}`,
			check: func(l line) bool { return string(l.Result) == "null" }},
		{name: "error reply", in: `{"id":4,"error":"boom","code":"js"}`,
			check: func(l line) bool { return !l.OK && l.Error == "boom" && l.Code == "js" }},
		{name: "bridge event", in: `{"event":"bridge","origin":"https://portal.contoso.test","message":"{\"v\":1}"}` + "\r\n",
			check: func(l line) bool { return l.Origin == "https://portal.contoso.test" && *l.Message == `{"v":1}` }},
		{name: "bridge event with an empty message", in: `{"event":"bridge","origin":"https://a","message":""}`,
			check: func(l line) bool { return *l.Message == "" }},
		{name: "tls event", in: `{"event":"tls-error","url":"https://a/","host":"a","flags":["unknown-ca","bad-identity"]}`,
			check: func(l line) bool { return len(l.Flags) == 2 && l.Host == "a" }},
		{name: "unknown event", in: `{"event":"later-version","x":1}`,
			check: func(l line) bool { return l.Event == "later-version" }},
		{name: "empty", in: ``, wantErr: true},
		{name: "not an object", in: `[1]`, wantErr: true},
		{name: "truncated", in: `{"id":1,"ok":tr`, wantErr: true},
		{name: "neither", in: `{}`, wantErr: true},
		{name: "both", in: `{"id":1,"ok":true,"event":"loaded"}`, wantErr: true},
		{name: "ok and error", in: `{"id":1,"ok":true,"error":"x"}`, wantErr: true},
		{name: "reply without outcome", in: `{"id":1}`, wantErr: true},
		{name: "negative id", in: `{"id":-1,"ok":true}`, wantErr: true},
		{name: "fractional id", in: `{"id":1.5,"ok":true}`, wantErr: true},
		{name: "bridge without message", in: `{"event":"bridge","origin":"https://a"}`, wantErr: true},
		{name: "bridge with a non-string message", in: `{"event":"bridge","origin":"https://a","message":{}}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := parseLine([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseLine(%q) = %+v, %v", tt.in, l, err)
			}
			if err == nil && tt.check != nil && !tt.check(l) {
				t.Fatalf("parseLine(%q) = %+v", tt.in, l)
			}
		})
	}
}

// FuzzParseLine: no line makes the parser panic, and whatever it accepts
// is a reply or an event, a bridge event with its message, and survives
// a round trip through JSON.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		`{"event":"ready","version":"2.50.6"}`,
		`{"id":1,"ok":true,"result":{"url":"https://localhost:8443/"}}`,
		`{"id":2,"error":"ReferenceError","code":"js"}`,
		`{"event":"bridge","origin":"https://localhost:8443","message":"{\"v\":1,\"op\":\"x\"}"}`,
		`{"event":"tls-error","url":"https://a/","host":"a","flags":["unknown-ca"],"error":"no"}`,
		`{"event":"bridge-refused","origin":"https://a","documentOrigin":"https://b","reason":"r"}`,
		`{"id":9223372036854775807,"ok":true,"result":null}`,
		`{"event":"bridge","message":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := parseLine(b)
		if err != nil {
			return
		}
		if (l.ID > 0) == (l.Event != "") || l.ID < 0 {
			t.Fatalf("accepted %q as %+v", b, l)
		}
		if l.Event == evBridge && l.Message == nil {
			t.Fatalf("bridge event without a message: %q", b)
		}
		if !json.Valid(l.Result) {
			t.Fatalf("result %q is not JSON", l.Result)
		}
		again, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		var back line
		if err := json.Unmarshal(again, &back); err != nil || back.ID != l.ID || back.Event != l.Event {
			t.Fatalf("round trip of %q: %+v %v", b, back, err)
		}
	})
}
