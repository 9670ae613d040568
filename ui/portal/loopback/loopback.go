package loopback

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mobileplans/mobileplans/ui/portal"
)

// ParamCallback is the launch parameter that carries the callback URL to
// the portal. It is this project's extension, not a Windows parameter.
const ParamCallback = "mpcallback"

// MaxBodySize bounds one POSTed message: the bridge's own limit.
const MaxBodySize = portal.MaxMessageSize

// pathPrefix starts the callback path; the token follows.
const pathPrefix = "/mobileplans/"

// queued is how many accepted messages wait for a reader of Messages before
// a POST waits (and, when the browser gives up, fails).
const queued = 16

// ErrInvalidURL is wrapped by AppendCallback's errors.
var ErrInvalidURL = errors.New("loopback: invalid URL")

// Options configure New.
type Options struct {
	// AllowedHost is the operator's registered callback host ("host" or
	// "host:port", no scheme): only POSTs whose Origin header is exactly
	// https://<AllowedHost> are accepted.
	AllowedHost string
	// Logger receives diagnostics; nil discards them. Activation codes,
	// message bodies and the callback token are never logged.
	Logger *slog.Logger
}

// Server receives the bridge messages a portal in the user's own browser
// POSTs to its callback URL (see the package documentation).
type Server struct {
	allowed string // https://<host>, lower case
	token   string
	addr    string // 127.0.0.1:port
	url     string
	log     *slog.Logger
	srv     *http.Server
	served  chan struct{}

	msgs chan portal.Message
	done chan struct{}
	// mu guards closed; handlers hold it for reading while they hand a
	// message on, so Close never closes msgs under a sender.
	mu     sync.RWMutex
	closed bool
	once   sync.Once
	err    error
}

// New listens on 127.0.0.1 at a port the system picks (RFC 8252 7.3: the
// IP literal, not "localhost") with a fresh random token in the callback
// path, and serves until Close. ctx bounds the listen only.
func New(ctx context.Context, opts Options) (*Server, error) {
	origin, err := allowedOrigin(opts.AllowedHost)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("loopback: %w", err)
	}
	var tok [32]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, fmt.Errorf("loopback: token: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("loopback: listen: %w", err)
	}
	s := &Server{
		allowed: origin,
		token:   base64.RawURLEncoding.EncodeToString(tok[:]),
		addr:    ln.Addr().String(),
		log:     opts.Logger,
		served:  make(chan struct{}),
		msgs:    make(chan portal.Message, queued),
		done:    make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.url = "http://" + s.addr + pathPrefix + s.token
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("loopback: serving stopped", "err", err)
		}
	}()
	s.log.Debug("loopback: listening", "addr", s.addr, "allowedOrigin", s.allowed)
	return s, nil
}

// allowedOrigin checks a callback host and returns https://<host>. The
// rules are package portal's (host name, IPv4 or [IPv6], optional port),
// asked through ParseMessage: with a valid host it fails on the empty
// message, with an invalid one on the host.
func allowedOrigin(host string) (string, error) {
	h := strings.ToLower(host)
	if _, err := portal.ParseMessage(nil, h); !errors.Is(err, portal.ErrInvalidJSON) {
		return "", fmt.Errorf("loopback: allowed host %q is not host[:port]", host)
	}
	return "https://" + h, nil
}

// CallbackURL is the URL the portal POSTs to:
// http://127.0.0.1:<port>/mobileplans/<token>. It is a secret of this
// launch: hand it only to the portal.
func (s *Server) CallbackURL() string { return s.url }

// AllowedOrigin is the only Origin accepted: https://<AllowedHost>.
func (s *Server) AllowedOrigin() string { return s.allowed }

// LaunchURL returns the portal launch URL with this server's callback URL
// as the ParamCallback launch parameter (AppendCallback).
func (s *Server) LaunchURL(launchURL string) (string, error) {
	return AppendCallback(launchURL, s.url)
}

// Messages delivers every accepted bridge message, in the order received,
// with Origin set to the request's Origin header (always AllowedOrigin). It
// is closed by Close. Hand each to the agent (HandleBridgeMessage), which
// checks the origin against the callback host again.
func (s *Server) Messages() <-chan portal.Message { return s.msgs }

// Close stops the server and closes Messages. It is safe to call more than
// once.
func (s *Server) Close() error {
	s.once.Do(func() {
		close(s.done)
		s.mu.Lock()
		s.closed = true
		close(s.msgs)
		s.mu.Unlock()
		s.err = s.srv.Close()
		<-s.served
	})
	return s.err
}

// refuse answers a request that is not accepted and logs why, with the
// method, the Origin header (shortened) and the status; never the path
// (it holds the token) nor the body.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, why string) {
	s.log.Warn("loopback: request refused", "status", status, "reason", why, "method", r.Method,
		"origin", short(r.Header.Get("Origin")), "remote", r.RemoteAddr)
	http.Error(w, http.StatusText(status), status)
}

func short(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// serveHTTP accepts one bridge message: see the package documentation for
// the checks, in order.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	tok, ok := strings.CutPrefix(r.URL.Path, pathPrefix)
	if !ok || r.URL.RawQuery != "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) != 1 {
		s.refuse(w, r, http.StatusNotFound, "unknown path or wrong token")
		return
	}
	if r.Method != http.MethodPost {
		h.Set("Allow", http.MethodPost)
		s.refuse(w, r, http.StatusMethodNotAllowed, "method is not POST")
		return
	}
	if r.Host != s.addr {
		s.refuse(w, r, http.StatusForbidden, "Host header is not the loopback address")
		return
	}
	origin := r.Header.Values("Origin")
	if len(origin) != 1 || origin[0] != s.allowed {
		s.refuse(w, r, http.StatusForbidden, "Origin is not the operator's callback host")
		return
	}
	// From here on the page may read the answer (CORS).
	h.Set("Access-Control-Allow-Origin", s.allowed)
	h.Add("Vary", "Origin")
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "text/plain" ||
		(params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
		s.refuse(w, r, http.StatusUnsupportedMediaType, "Content-Type is not text/plain (UTF-8)")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodySize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.refuse(w, r, http.StatusRequestEntityTooLarge, "body larger than "+strconv.Itoa(MaxBodySize)+" bytes")
			return
		}
		s.refuse(w, r, http.StatusBadRequest, "reading the body failed")
		return
	}
	m := portal.Message{Raw: body, Origin: origin[0]}
	call, err := m.Parse(strings.TrimPrefix(s.allowed, "https://"))
	switch {
	case errors.Is(err, portal.ErrForeignOrigin):
		s.refuse(w, r, http.StatusForbidden, "the message names another origin")
		return
	case err != nil:
		s.log.Warn("loopback: invalid bridge message", "message", m, "err", err)
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	src := call.CallSource()
	if !s.deliver(r.Context(), m) {
		s.refuse(w, r, http.StatusServiceUnavailable, "closed or nobody is reading")
		return
	}
	s.log.Info("loopback: bridge message received", "op", src.Object+"."+src.Op, "message", m)
	w.WriteHeader(http.StatusNoContent)
}

// deliver hands m to Messages unless the server closes or the request ends
// first.
func (s *Server) deliver(ctx context.Context, m portal.Message) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return false
	}
	select {
	case s.msgs <- m:
		return true
	case <-s.done:
	case <-ctx.Done():
	}
	return false
}

// AppendCallback returns launchURL (an https portal launch URL with its
// launch parameters) with callbackURL added as the ParamCallback
// parameter, replacing any earlier one. The other parameters are kept byte
// for byte, in order. Errors wrap ErrInvalidURL.
func AppendCallback(launchURL, callbackURL string) (string, error) {
	u, err := url.Parse(launchURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("%w: the portal launch URL must be https://host/...", ErrInvalidURL)
	}
	if err := CheckCallbackURL(callbackURL); err != nil {
		return "", err
	}
	var kept []string
	if u.RawQuery != "" {
		for pair := range strings.SplitSeq(u.RawQuery, "&") {
			k, _, _ := strings.Cut(pair, "=")
			if dk, err := url.QueryUnescape(k); err == nil && strings.EqualFold(dk, ParamCallback) {
				continue
			}
			kept = append(kept, pair)
		}
	}
	kept = append(kept, ParamCallback+"="+url.QueryEscape(callbackURL))
	u.RawQuery = strings.Join(kept, "&")
	return u.String(), nil
}

// CheckCallbackURL checks the form the portal accepts for ParamCallback:
// http://127.0.0.1:<port>/<path> or http://[::1]:<port>/<path>, with an
// explicit port, a path of unreserved characters and '/', and nothing
// else (no user, query or fragment), at most 512 bytes. Errors wrap
// ErrInvalidURL.
func CheckCallbackURL(callback string) error {
	bad := func(why string) error { return fmt.Errorf("%w: callback URL %s", ErrInvalidURL, why) }
	if len(callback) > 512 {
		return bad("is longer than 512 bytes")
	}
	rest, ok := strings.CutPrefix(callback, "http://")
	if !ok {
		return bad("is not http://")
	}
	switch {
	case strings.HasPrefix(rest, "127.0.0.1:"):
		rest = rest[len("127.0.0.1:"):]
	case strings.HasPrefix(rest, "[::1]:"):
		rest = rest[len("[::1]:"):]
	default:
		return bad("is not on 127.0.0.1 or [::1] with a port")
	}
	port, path, ok := strings.Cut(rest, "/")
	if !ok {
		return bad("has no path")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '0' || port[0] == '+' {
		return bad("has a bad port")
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~/", c) >= 0) {
			return bad("has a character other than letters, digits and -._~/ in its path")
		}
	}
	return nil
}
