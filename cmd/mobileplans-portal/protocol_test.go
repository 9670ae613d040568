package main

import (
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
			req, err := parseRequest([]byte(tt.in))
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

func TestOriginOf(t *testing.T) {
	tests := []struct{ uri, want string }{
		{"https://localhost:8443/mobileplans?eid=1", "https://localhost:8443"},
		{"https://Portal.Contoso.TEST/x", "https://portal.contoso.test"},
		{"https://portal.contoso.test:443/", "https://portal.contoso.test"},
		{"http://127.0.0.1:80/", "http://127.0.0.1"},
		{"https://[::1]:8443/", "https://[::1]:8443"},
		{"about:blank", "null"},
		{"data:text/html,hi", "null"},
		{"", "null"},
	}
	for _, tt := range tests {
		if got := originOf(tt.uri); got != tt.want {
			t.Errorf("originOf(%q) = %q, want %q", tt.uri, got, tt.want)
		}
	}
}

func TestHostPort(t *testing.T) {
	tests := []struct {
		uri  string
		host string
		port int
		err  bool
	}{
		{"https://localhost:8443/", "localhost", 8443, false},
		{"https://Portal.Contoso.test/", "portal.contoso.test", 443, false},
		{"http://a/", "a", 80, false},
		{"https://[::1]:9/", "::1", 9, false},
		{"https://a:0/", "", 0, true},
		{"about:blank", "", 0, true},
	}
	for _, tt := range tests {
		host, port, err := hostPort(tt.uri)
		if host != tt.host || port != tt.port || (err != nil) != tt.err {
			t.Errorf("hostPort(%q) = %q, %d, %v", tt.uri, host, port, err)
		}
	}
}

func TestSplitMessage(t *testing.T) {
	tok := newToken()
	if len(tok) != 32 || tok == newToken() {
		t.Fatalf("token %q", tok)
	}
	tests := []struct {
		posted, origin, msg string
		ok                  bool
	}{
		{tok + "\nhttps://a\n{\"v\":1}", "https://a", `{"v":1}`, true},
		{tok + "\nhttps://a\nline1\nline2", "https://a", "line1\nline2", true},
		{tok + "\nhttps://a", "", "", false},
		{tok, "", "", false},
		{"{\"v\":1}", "", "", false},
		{strings.ToUpper(tok) + "\nhttps://a\n{}", "", "", false},
	}
	for _, tt := range tests {
		o, m, ok := splitMessage(tt.posted, tok)
		if o != tt.origin || m != tt.msg || ok != tt.ok {
			t.Errorf("splitMessage(%q) = %q, %q, %v", tt.posted, o, m, ok)
		}
	}
}

func TestUserScript(t *testing.T) {
	tok := newToken()
	s := userScript(tok, "localhost:8443")
	for _, want := range []string{`"` + tok + `\n"`, `window.webkit && window.webkit.messageHandlers`,
		`"transport":"` + transportName + `"`, `"allowedHost":"localhost:8443"`, "MobilePlansInlineOperations"} {
		if !strings.Contains(s, want) {
			t.Errorf("user script lacks %s", want)
		}
	}
}

func TestTLSFlagNames(t *testing.T) {
	got := strings.Join(tlsFlagNames(1|2|8|0x100), ",")
	if got != "unknown-ca,bad-identity,expired,0x100" {
		t.Fatalf("names %s", got)
	}
}

func TestParseFlags(t *testing.T) {
	var sb strings.Builder
	c, err := parseFlags([]string{"--allowed-host", "localhost:1", "--ca", "ca.pem", "--log-level", "debug"}, &sb)
	if err != nil || c.width != 800 || c.height != 600 || c.title != "Mobile Plans" || c.caFile != "ca.pem" {
		t.Fatalf("parseFlags = %+v, %v", c, err)
	}
	for _, args := range [][]string{{}, {"--allowed-host", "a", "extra"}, {"--allowed-host", "a", "--width", "10"}, {"--nope"}} {
		if _, err := parseFlags(args, &sb); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}
