package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
)

// originOf returns the web origin of an http(s) URI as the browser writes
// it (scheme://host[:port], the default port left out, the host in lower
// case), and "null" for anything else.
func originOf(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return "null"
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host
}

// hostPort returns the host name (without brackets) and port of an
// http(s) URI, the port defaulting to the scheme's.
func hostPort(uri string) (string, int, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Hostname() == "" {
		return "", 0, fmt.Errorf("no host in %q", truncate(uri, 200))
	}
	port := 443
	if u.Scheme == "http" {
		port = 80
	}
	if p := u.Port(); p != "" {
		if _, err := fmt.Sscanf(p, "%d", &port); err != nil || port <= 0 || port > 65535 {
			return "", 0, fmt.Errorf("bad port in %q", truncate(uri, 200))
		}
	}
	return strings.ToLower(u.Hostname()), port, nil
}

// sameURL compares two URLs ignoring the case of scheme and host, an
// empty path against "/", and the fragment.
func sameURL(a, b string) bool {
	norm := func(s string) string {
		u, err := url.Parse(s)
		if err != nil {
			return s
		}
		u.Scheme, u.Host, u.Fragment, u.RawFragment = strings.ToLower(u.Scheme), strings.ToLower(u.Host), "", ""
		if u.Path == "" {
			u.Path = "/"
		}
		return u.String()
	}
	return norm(a) == norm(b)
}

// tlsFlagNames names the bits of GTlsCertificateFlags.
func tlsFlagNames(flags uint32) []string {
	names := []string{"unknown-ca", "bad-identity", "not-activated", "expired", "revoked", "insecure", "generic-error"}
	var out []string
	for i, n := range names {
		if flags&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if rest := flags &^ (1<<len(names) - 1); rest != 0 {
		out = append(out, fmt.Sprintf("0x%x", rest))
	}
	return out
}

// lineWriter writes one JSON object per line; it is safe for concurrent
// use.
type lineWriter struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

// write encodes v as one line. After the first write error it writes
// nothing more and returns that error.
func (w *lineWriter) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if _, err := w.w.Write(b); err != nil {
		w.err = err
	}
	return w.err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
