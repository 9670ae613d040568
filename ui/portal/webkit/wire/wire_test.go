package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantID  int64
		wantErr string
	}{
		{"open", `{"id":1,"op":"open","url":"https://localhost:8443/mobileplans?eid=1","headers":{"X-MP-LPAError-Codes":["8"]}}`, 1, ""},
		{"eval", `{"id":2,"op":"eval","js":"document.title"}`, 2, ""},
		{"back", `{"id":3,"op":"back"}`, 3, ""},
		{"guard", `{"id":4,"op":"guard","on":false}`, 4, ""},
		{"close", `{"id":5,"op":"close"}`, 5, ""},
		{"no id", `{"op":"back"}`, 0, "id"},
		{"negative id", `{"id":-3,"op":"back"}`, -3, "id"},
		{"bad field keeps the id", `{"id":7,"op":"guard","on":"yes"}`, 7, "malformed"},
		{"unknown op", `{"id":1,"op":"print"}`, 1, "unknown op"},
		{"file url", `{"id":1,"op":"open","url":"file:///etc/passwd"}`, 1, "http(s)"},
		{"javascript url", `{"id":1,"op":"open","url":"javascript:alert(1)"}`, 1, "http(s)"},
		{"relative url", `{"id":1,"op":"open","url":"/mobileplans"}`, 1, "http(s)"},
		{"header name", `{"id":1,"op":"open","url":"https://a/","headers":{"X MP":["1"]}}`, 1, "not a token"},
		{"header value", `{"id":1,"op":"open","url":"https://a/","headers":{"X-MP":["1\r\nEvil: 1"]}}`, 1, "CR, LF"},
		{"empty eval", `{"id":1,"op":"eval","js":"  "}`, 1, "needs js"},
		{"guard without on", `{"id":1,"op":"guard"}`, 1, "needs on"},
		{"not json", `open https://a/`, 0, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := ParseRequest([]byte(tt.in))
			if req.ID != tt.wantID {
				t.Errorf("id %d, want %d", req.ID, tt.wantID)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// FuzzParseRequest: no line makes the parser panic, an accepted request
// has a positive id and a known op with its arguments, and an open's URL
// and headers hold no CR, LF or NUL.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"op":"open","url":"https://localhost:8443/mobileplans?eid=1","headers":{"X-MP-LPAError-Codes":["8"]}}`,
		`{"id":2,"op":"eval","js":"document.title"}`,
		`{"id":4,"op":"guard","on":true}`,
		`{"id":5,"op":"close"}`,
		`{"id":7,"op":"guard","on":"yes"}`,
		`{"id":1,"op":"open","url":"https://a/","headers":{"X-MP":["1\r\nEvil: 1"]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := ParseRequest(b)
		if err != nil {
			return
		}
		if req.ID <= 0 {
			t.Fatalf("accepted id %d", req.ID)
		}
		switch req.Op {
		case OpOpen:
			if strings.ContainsAny(req.URL, "\x00\r\n") {
				t.Fatalf("accepted url %q", req.URL)
			}
			for name, vs := range req.Headers {
				for _, v := range vs {
					if strings.ContainsAny(name+v, "\x00\r\n") {
						t.Fatalf("accepted header %q: %q", name, v)
					}
				}
			}
		case OpEval:
			if strings.TrimSpace(req.JS) == "" || strings.IndexByte(req.JS, 0) >= 0 {
				t.Fatalf("accepted js %q", req.JS)
			}
		case OpGuard:
			if req.On == nil {
				t.Fatal("accepted guard without on")
			}
		case OpBack, OpClose:
		default:
			t.Fatalf("accepted op %q", req.Op)
		}
	})
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
		check   func(Line) bool
	}{
		{name: "ok reply", in: `{"id":3,"ok":true,"result":{"url":"https://x/"}}`,
			check: func(l Line) bool { return l.ID == 3 && l.OK && string(l.Result) == `{"url":"https://x/"}` }},
		{name: "ok reply without result", in: `{"id":3,"ok":true}`,
			check: func(l Line) bool { return string(l.Result) == "null" }},
		{name: "error reply", in: `{"id":4,"error":"boom","code":"js"}`,
			check: func(l Line) bool { return !l.OK && l.Error == "boom" && l.Code == "js" }},
		{name: "bridge event", in: `{"event":"bridge","origin":"https://portal.contoso.test","message":"{\"v\":1}"}` + "\r\n",
			check: func(l Line) bool { return l.Origin == "https://portal.contoso.test" && *l.Message == `{"v":1}` }},
		{name: "bridge event with an empty message", in: `{"event":"bridge","origin":"https://a","message":""}`,
			check: func(l Line) bool { return *l.Message == "" }},
		{name: "tls event", in: `{"event":"tls-error","url":"https://a/","host":"a","flags":["unknown-ca","bad-identity"]}`,
			check: func(l Line) bool { return len(l.Flags) == 2 && l.Host == "a" }},
		{name: "unknown event", in: `{"event":"later-version","x":1}`,
			check: func(l Line) bool { return l.Event == "later-version" }},
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
			l, err := ParseLine([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseLine(%q) = %+v, %v", tt.in, l, err)
			}
			if err == nil && tt.check != nil && !tt.check(l) {
				t.Fatalf("ParseLine(%q) = %+v", tt.in, l)
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
		l, err := ParseLine(b)
		if err != nil {
			return
		}
		if (l.ID > 0) == (l.Event != "") || l.ID < 0 {
			t.Fatalf("accepted %q as %+v", b, l)
		}
		if l.Event == EvBridge && l.Message == nil {
			t.Fatalf("bridge event without a message: %q", b)
		}
		if !json.Valid(l.Result) {
			t.Fatalf("result %q is not JSON", l.Result)
		}
		again, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		var back Line
		if err := json.Unmarshal(again, &back); err != nil || back.ID != l.ID || back.Event != l.Event {
			t.Fatalf("round trip of %q: %+v %v", b, back, err)
		}
	})
}
