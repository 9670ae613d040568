package main

import (
	"strings"
	"testing"
)

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
