package smdp

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/pki"
)

// shutdownTimeout bounds the graceful shutdown of a listener.
const shutdownTimeout = 5 * time.Second

// Server is a mock-but-real SM-DP+: ES9+ for LPAs and ES2+ for operators,
// on a SQLite store. Create it with New; it is safe for concurrent use.
type Server struct {
	cfg    Config
	pki    *pki.PKI
	db     *store
	log    *slog.Logger
	now    func() time.Time
	faults *Faults
	oid    asn1.ObjectIdentifier
	tmpDir string // removed by Close when the database is temporary

	rogueMu sync.Mutex
	rogue   *pki.PKI // DPauth under an untrusted CI, for Faults.UntrustedDPauth

	sweepMu   sync.Mutex
	lastSweep time.Time

	mu      sync.Mutex
	servers []*http.Server
	closed  chan struct{}
	closing bool
	wg      sync.WaitGroup
}

// New opens (or creates) the database, generates the profile inventory on
// first start and returns a Server. Close releases it.
func New(ctx context.Context, cfg Config) (*Server, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:    c,
		pki:    c.PKI,
		log:    c.Logger,
		now:    c.Now,
		faults: c.Faults,
		oid:    slices.Clone(c.PKI.SMDPOID),
		closed: make(chan struct{}),
	}
	path := c.DBPath
	if path == "" {
		dir, err := os.MkdirTemp("", "smdp-*")
		if err != nil {
			return nil, fmt.Errorf("smdp: temporary database directory: %w", err)
		}
		s.tmpDir = dir
		path = filepath.Join(dir, "smdp.db")
	}
	if s.db, err = openStore(ctx, path); err != nil {
		s.removeTmp()
		return nil, err
	}
	if err := s.ensureInventory(ctx); err != nil {
		s.db.close()
		s.removeTmp()
		return nil, err
	}
	s.log.Info("SM-DP+ ready", "address", c.Address, "oid", s.oid.String(), "database", path)
	return s, nil
}

func (s *Server) removeTmp() {
	if s.tmpDir != "" {
		os.RemoveAll(s.tmpDir)
	}
}

// Address returns the SM-DP+ address (FQDN[:port]) used in activation
// codes.
func (s *Server) Address() string { return s.cfg.Address }

// Handler returns the HTTP handler serving ES9+ (sgp22.md 3.1 paths) and
// ES2+ (/gsma/rsp2/es2plus/{downloadOrder,confirmOrder,cancelOrder,
// releaseProfile}). ES2+ requests need a client certificate verified against
// Config.OperatorCAs (the connection must be TLS with the certificate, see
// TLSConfig) or the Config.OperatorToken as a bearer token.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(es9.PathInitiateAuthentication, s.es9Handler(FuncInitiateAuthentication, s.initiateAuthentication))
	mux.Handle(es9.PathAuthenticateClient, s.es9Handler(FuncAuthenticateClient, s.authenticateClient))
	mux.Handle(es9.PathGetBoundProfilePackage, s.es9Handler(FuncGetBoundProfilePackage, s.getBoundProfilePackage))
	mux.Handle(es9.PathHandleNotification, s.es9Handler(FuncHandleNotification, s.handleNotification))
	mux.Handle(es9.PathCancelSession, s.es9Handler(FuncCancelSession, s.cancelSession))
	mux.Handle(PathDownloadOrder, s.es2Handler(FuncDownloadOrder, s.downloadOrder))
	mux.Handle(PathConfirmOrder, s.es2Handler(FuncConfirmOrder, s.confirmOrder))
	mux.Handle(PathCancelOrder, s.es2Handler(FuncCancelOrder, s.cancelOrder))
	mux.Handle(PathReleaseProfile, s.es2Handler(FuncReleaseProfile, s.releaseProfile))
	return mux
}

// TLSConfig returns the server TLS configuration: the DPtls certificate,
// HTTP/1.1, and client certificates requested but optional (LPAs have
// none), verified against Config.OperatorCAs when given.
func (s *Server) TLSConfig() (*tls.Config, error) {
	cert, err := s.pki.TLSCertificate()
	if err != nil {
		return nil, fmt.Errorf("smdp: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    s.cfg.OperatorCAs,
	}, nil
}

// ListenAndServeTLS listens on addr ("host:port", port 0 picks one) and
// serves Handler over TLS with TLSConfig in the background. It returns the
// bound address. The listener shuts down gracefully when ctx ends or Close
// is called.
func (s *Server) ListenAndServeTLS(ctx context.Context, addr string) (string, error) {
	cfg, err := s.TLSConfig()
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return "", errors.New("smdp: server closed")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("smdp: listen: %w", err)
	}
	hs := &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         cfg,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.servers = append(s.servers, hs)
	bound := ln.Addr().String()
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := hs.Serve(tls.NewListener(ln, cfg)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("SM-DP+ listener stopped", "address", bound, "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		select {
		case <-ctx.Done():
		case <-s.closed:
		}
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			s.log.Warn("SM-DP+ listener shutdown", "address", bound, "err", err)
			hs.Close()
		}
	}()
	s.log.Info("SM-DP+ listening", "address", bound)
	return bound, nil
}

// Close shuts the listeners down gracefully, closes the database and
// removes a temporary database. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	close(s.closed)
	s.mu.Unlock()
	s.wg.Wait()
	err := s.db.close()
	s.removeTmp()
	return err
}

// ---- HTTP plumbing ----

// failure builds the *es9.Error a function answers with.
func failure(st es9.Status, format string, args ...any) *es9.Error {
	return &es9.Error{Status: es9.StatusFailed, Subject: st.Subject, Reason: st.Reason, Message: fmt.Sprintf(format, args...)}
}

// headerOnly is the body of a failed function: the header alone.
type headerOnly struct {
	Header es9.ResponseHeader `json:"header"`
}

// apiFunc runs one function on a request body; a nil response means 204.
type apiFunc func(ctx context.Context, body io.Reader) (any, error)

// es9Handler wraps an ES9+ function: method check, faults, JSON errors.
func (s *Server) es9Handler(name string, fn apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		s.serve(w, r, name, fn)
	})
}

// serve applies the faults for name, runs fn and writes its answer.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, name string, fn apiFunc) {
	ctx := r.Context()
	// Read the whole body first: afterwards net/http notices a client that
	// hangs up and cancels ctx, which ends an injected delay.
	body, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.MaxRequestBody+1))
	if err != nil {
		s.log.Debug("reading request", "function", name, "err", err)
		return
	}
	if f := s.faults.take(name); f.active() {
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			case <-s.closed:
				t.Stop()
				http.Error(w, "shutting down", http.StatusServiceUnavailable)
				return
			}
		}
		switch {
		case f.Drop:
			s.log.Info("fault: dropping connection", "function", name)
			panic(http.ErrAbortHandler) // net/http closes the connection silently
		case f.HTTPStatus != 0:
			s.log.Info("fault: HTTP status", "function", name, "status", f.HTTPStatus)
			http.Error(w, http.StatusText(f.HTTPStatus), f.HTTPStatus)
			return
		case f.Status != nil:
			s.log.Info("fault: failing", "function", name, "status", f.Status.String())
			s.writeJSON(w, http.StatusOK, headerOnly{Header: es9.Failure(*f.Status, "injected fault")})
			return
		}
	}
	resp, err := fn(ctx, bytes.NewReader(body))
	var fe *es9.Error
	switch {
	case err == nil && resp == nil:
		w.Header().Set(es9.HeaderAdminProtocol, es9.AdminProtocol)
		w.WriteHeader(http.StatusNoContent)
	case err == nil:
		s.writeJSON(w, http.StatusOK, resp)
	case errors.As(err, &fe):
		s.log.Info("function failed", "function", name, "status", es9.Status{Subject: fe.Subject, Reason: fe.Reason}.String(),
			"message", fe.Message)
		s.writeJSON(w, http.StatusOK, headerOnly{Header: es9.Failure(es9.Status{Subject: fe.Subject, Reason: fe.Reason}, fe.Message)})
	case errors.Is(err, es9.ErrTooLarge):
		s.log.Info("request too large", "function", name, "err", err)
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
	case errors.Is(err, es9.ErrMalformed):
		s.log.Info("malformed request", "function", name, "err", err)
		http.Error(w, "malformed JSON request", http.StatusBadRequest)
	case ctx.Err() != nil:
		s.log.Debug("request abandoned", "function", name, "err", err)
	default:
		s.log.Error("internal error", "function", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encode response", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", es9.ContentType)
	w.Header().Set(es9.HeaderAdminProtocol, es9.AdminProtocol)
	w.WriteHeader(status)
	w.Write(b)
}
