package smdp

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/rsp"
)

// ES2+ paths (HTTPS POST, operator to SM-DP+).
const (
	PathDownloadOrder  = "/gsma/rsp2/es2plus/downloadOrder"
	PathConfirmOrder   = "/gsma/rsp2/es2plus/confirmOrder"
	PathCancelOrder    = "/gsma/rsp2/es2plus/cancelOrder"
	PathReleaseProfile = "/gsma/rsp2/es2plus/releaseProfile"
)

// Final profile status indicators of ES2+.CancelOrder.
const (
	FinalStatusAvailable   = "Available"
	FinalStatusUnavailable = "Unavailable"
)

// RequestHeader is the optional header of ES2+ requests; the server ignores
// it.
type RequestHeader struct {
	FunctionRequesterIdentifier string `json:"functionRequesterIdentifier"`
	FunctionCallIdentifier      string `json:"functionCallIdentifier"`
}

// DownloadOrderRequest is the body of ES2+.DownloadOrder: reserve the
// profile iccid, or any available profile of profileType (any profile when
// both are empty), optionally for one EID.
type DownloadOrderRequest struct {
	Header      *RequestHeader `json:"header,omitempty"`
	EID         string         `json:"eid,omitempty"`
	ICCID       string         `json:"iccid,omitempty"`
	ProfileType string         `json:"profileType,omitempty"`
}

// DownloadOrderResponse is the answer to ES2+.DownloadOrder.
type DownloadOrderResponse struct {
	Header es9.ResponseHeader `json:"header"`
	ICCID  string             `json:"iccid,omitempty"`
}

// ConfirmOrderRequest is the body of ES2+.ConfirmOrder. An empty MatchingID
// makes the SM-DP+ generate one; ConfirmationCode, when set, must be
// entered on the device. ReleaseFlag true releases the order at once.
type ConfirmOrderRequest struct {
	Header           *RequestHeader `json:"header,omitempty"`
	ICCID            string         `json:"iccid"`
	EID              string         `json:"eid,omitempty"`
	MatchingID       string         `json:"matchingId,omitempty"`
	ConfirmationCode string         `json:"confirmationCode,omitempty"`
	SMDSAddress      string         `json:"smdsAddress,omitempty"`
	ReleaseFlag      bool           `json:"releaseFlag"`
}

// confirmOrderIn is ConfirmOrderRequest as decoded, to see a missing
// releaseFlag.
type confirmOrderIn struct {
	ICCID            string `json:"iccid"`
	EID              string `json:"eid"`
	MatchingID       string `json:"matchingId"`
	ConfirmationCode string `json:"confirmationCode"`
	SMDSAddress      string `json:"smdsAddress"`
	ReleaseFlag      *bool  `json:"releaseFlag"`
}

// ConfirmOrderResponse is the answer to ES2+.ConfirmOrder: the activation
// code is "LPA:1$" + SMDPAddress + "$" + MatchingID.
type ConfirmOrderResponse struct {
	Header      es9.ResponseHeader `json:"header"`
	EID         string             `json:"eid,omitempty"`
	MatchingID  string             `json:"matchingId,omitempty"`
	SMDPAddress string             `json:"smdpAddress,omitempty"`
}

// CancelOrderRequest is the body of ES2+.CancelOrder;
// FinalProfileStatusIndicator is FinalStatusAvailable or
// FinalStatusUnavailable.
type CancelOrderRequest struct {
	Header                      *RequestHeader `json:"header,omitempty"`
	ICCID                       string         `json:"iccid"`
	EID                         string         `json:"eid,omitempty"`
	MatchingID                  string         `json:"matchingId,omitempty"`
	FinalProfileStatusIndicator string         `json:"finalProfileStatusIndicator"`
}

// CancelOrderResponse is the answer to ES2+.CancelOrder.
type CancelOrderResponse struct {
	Header es9.ResponseHeader `json:"header"`
}

// ReleaseProfileRequest is the body of ES2+.ReleaseProfile.
type ReleaseProfileRequest struct {
	Header *RequestHeader `json:"header,omitempty"`
	ICCID  string         `json:"iccid"`
}

// ReleaseProfileResponse is the answer to ES2+.ReleaseProfile.
type ReleaseProfileResponse struct {
	Header es9.ResponseHeader `json:"header"`
}

// ES2+ status codes (subject 8.1.1 EID, 8.2.1 profile ICCID, 8.2.5
// profile type, 8.2.6 matching ID; reasons as in sgp22.md 3.3).
func statusNotAllowed() es9.Status         { return es9.Status{Subject: "8.2.1", Reason: "1.2"} }
func statusICCIDMissing() es9.Status       { return es9.Status{Subject: "8.2.1", Reason: "2.2"} }
func statusICCIDInvalid() es9.Status       { return es9.Status{Subject: "8.2.1", Reason: "2.1"} }
func statusICCIDUnknown() es9.Status       { return es9.Status{Subject: "8.2.1", Reason: "3.9"} }
func statusICCIDInUse() es9.Status         { return es9.Status{Subject: "8.2.1", Reason: "3.3"} }
func statusICCIDRefused() es9.Status       { return es9.Status{Subject: "8.2.1", Reason: "3.8"} }
func statusEIDAssociation() es9.Status     { return es9.Status{Subject: "8.2.1", Reason: "3.10"} }
func statusEIDInvalid() es9.Status         { return es9.Status{Subject: "8.1.1", Reason: "2.1"} }
func statusMatchingIDInvalid() es9.Status  { return es9.Status{Subject: "8.2.6", Reason: "2.1"} }
func statusMatchingIDInUse() es9.Status    { return es9.Status{Subject: "8.2.6", Reason: "3.3"} }
func statusMatchingIDMismatch() es9.Status { return es9.Status{Subject: "8.2.6", Reason: "3.10"} }
func statusProfileTypeMismatch() es9.Status {
	return es9.Status{Subject: "8.2.5", Reason: "3.10"}
}

// es2Handler wraps an ES2+ function: method check, operator
// authentication, then as ES9+.
func (s *Server) es2Handler(name string, fn apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		who, ok := s.operator(r)
		if !ok {
			s.log.Warn("ES2+ request without operator credentials refused", "function", name, "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="ES2+"`)
			s.writeJSON(w, http.StatusUnauthorized, headerOnly{Header: es9.Failure(statusNotAllowed(),
				"a client certificate or bearer token is required")})
			return
		}
		s.log.Debug("ES2+ request", "function", name, "operator", who)
		s.serve(w, r, name, fn)
	})
}

// operator authenticates an ES2+ caller: a TLS client certificate that
// verifies against Config.OperatorCAs with the clientAuth extended key
// usage, or the configured bearer token. It returns a name for logs.
func (s *Server) operator(r *http.Request) (string, bool) {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		leaf := r.TLS.PeerCertificates[0]
		inter := x509.NewCertPool()
		for _, c := range r.TLS.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := leaf.Verify(x509.VerifyOptions{
			Roots:         s.cfg.OperatorCAs,
			Intermediates: inter,
			CurrentTime:   s.now(),
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		})
		if err == nil && slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
			return "cert:" + leaf.Subject.CommonName, true
		}
		s.log.Debug("ES2+ client certificate refused", "subject", leaf.Subject.String(), "err", err)
	}
	if s.cfg.OperatorToken != "" {
		auth := r.Header.Get("Authorization")
		if tok, ok := strings.CutPrefix(auth, "Bearer "); ok &&
			subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.cfg.OperatorToken)) == 1 {
			return "token", true
		}
	}
	return "", false
}

// parseICCID validates an ES2+ ICCID (19 or 20 digits, optional F).
func parseICCID(s string) (string, error) {
	if s == "" {
		return "", failure(statusICCIDMissing(), "iccid missing")
	}
	id, err := rsp.ParseICCID(s)
	if err != nil {
		return "", failure(statusICCIDInvalid(), "iccid: %v", err)
	}
	return string(id), nil
}

// parseEID validates an optional EID.
func parseEID(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	e, err := rsp.ParseEID(s)
	if err != nil {
		return "", failure(statusEIDInvalid(), "eid: %v", err)
	}
	return string(e), nil
}

// orderError maps store errors of an ES2+ function on profile iccid.
func orderError(err error) error {
	var te *TransitionError
	switch {
	case errors.Is(err, ErrNotFound):
		return failure(statusICCIDUnknown(), "unknown profile")
	case errors.As(err, &te):
		return failure(statusICCIDRefused(), "not allowed for a profile in state %s", te.From)
	case errors.Is(err, ErrConflict):
		return failure(statusICCIDRefused(), "the profile changed concurrently")
	}
	return err
}

func (s *Server) downloadOrder(ctx context.Context, body io.Reader) (any, error) {
	req, err := es9.Decode[DownloadOrderRequest](body, s.cfg.MaxRequestBody)
	if err != nil {
		return nil, err
	}
	eid, err := parseEID(req.EID)
	if err != nil {
		return nil, err
	}
	var iccid string
	if req.ICCID != "" {
		if iccid, err = parseICCID(req.ICCID); err != nil {
			return nil, err
		}
	}
	ev := EventOrder
	if eid != "" {
		ev = EventOrderForEID
	}
	var p profileRow
	err = s.db.tx(ctx, func(tx *sql.Tx) error {
		if iccid != "" {
			if p, err = s.db.profile(ctx, tx, iccid); err != nil {
				return err
			}
			if req.ProfileType != "" && req.ProfileType != p.ProfileType {
				return failure(statusProfileTypeMismatch(), "profile %s is not of type %q", iccid, req.ProfileType)
			}
			if p.State != StateAvailable {
				return failure(statusICCIDInUse(), "profile %s is already ordered (%s)", iccid, p.State)
			}
		} else if p, err = s.db.firstAvailable(ctx, tx, req.ProfileType); err != nil {
			if errors.Is(err, ErrNotFound) {
				return failure(es9.StatusNoEligibleProfile(), "no available profile of type %q", req.ProfileType)
			}
			return err
		}
		p, err = s.db.transition(ctx, tx, p.ICCID, ev, s.now(), func(p *profileRow) error {
			p.EID = eid
			return nil
		})
		return err
	})
	if err != nil {
		return nil, orderError(err)
	}
	s.log.Info("download order", "iccid", p.ICCID, "state", string(p.State), "eid", redactEID(eid))
	return DownloadOrderResponse{Header: es9.Success(), ICCID: p.ICCID}, nil
}

func (s *Server) confirmOrder(ctx context.Context, body io.Reader) (any, error) {
	req, err := es9.Decode[confirmOrderIn](body, s.cfg.MaxRequestBody)
	if err != nil {
		return nil, err
	}
	iccid, err := parseICCID(req.ICCID)
	if err != nil {
		return nil, err
	}
	if req.ReleaseFlag == nil {
		return nil, failure(statusICCIDMissing(), "releaseFlag missing")
	}
	eid, err := parseEID(req.EID)
	if err != nil {
		return nil, err
	}
	if req.MatchingID != "" && !validMatchingID(req.MatchingID) {
		return nil, failure(statusMatchingIDInvalid(), "matchingId must be 1 to 64 characters of [0-9A-Za-z-]")
	}
	var ccHash []byte
	if req.ConfirmationCode != "" {
		h := sha256.Sum256([]byte(req.ConfirmationCode))
		ccHash = h[:]
	}
	ev := EventConfirm
	if *req.ReleaseFlag {
		ev = EventConfirmRelease
	}
	var p profileRow
	err = s.db.tx(ctx, func(tx *sql.Tx) error {
		cur, err := s.db.profile(ctx, tx, iccid)
		if err != nil {
			return err
		}
		if eid != "" && cur.EID != "" && eid != cur.EID {
			return failure(statusEIDAssociation(), "the order is linked to another EID")
		}
		mid := req.MatchingID
		if mid == "" {
			mid = newMatchingID()
		}
		taken, err := s.db.matchingIDTaken(ctx, tx, mid, iccid)
		if err != nil {
			return err
		}
		if taken {
			return failure(statusMatchingIDInUse(), "matchingId already used by another order")
		}
		p, err = s.db.transition(ctx, tx, iccid, ev, s.now(), func(p *profileRow) error {
			if eid != "" {
				p.EID = eid
			}
			p.MatchingID, p.CCHash, p.CCAttempts, p.SMDSAddress = mid, ccHash, 0, req.SMDSAddress
			return nil
		})
		return err
	})
	if err != nil {
		return nil, orderError(err)
	}
	s.log.Info("order confirmed", "iccid", iccid, "state", string(p.State), "matchingId", redact(p.MatchingID),
		"ccRequired", ccHash != nil, "eid", redactEID(p.EID))
	return ConfirmOrderResponse{Header: es9.Success(), EID: p.EID, MatchingID: p.MatchingID, SMDPAddress: s.cfg.Address}, nil
}

func (s *Server) cancelOrder(ctx context.Context, body io.Reader) (any, error) {
	req, err := es9.Decode[CancelOrderRequest](body, s.cfg.MaxRequestBody)
	if err != nil {
		return nil, err
	}
	iccid, err := parseICCID(req.ICCID)
	if err != nil {
		return nil, err
	}
	eid, err := parseEID(req.EID)
	if err != nil {
		return nil, err
	}
	var ev Event
	switch {
	case req.FinalProfileStatusIndicator == "":
		return nil, failure(statusICCIDMissing(), "finalProfileStatusIndicator missing")
	case strings.EqualFold(req.FinalProfileStatusIndicator, FinalStatusAvailable):
		ev = EventCancelAvailable
	case strings.EqualFold(req.FinalProfileStatusIndicator, FinalStatusUnavailable):
		ev = EventCancelUnavailable
	default:
		return nil, failure(statusICCIDInvalid(), "finalProfileStatusIndicator must be Available or Unavailable")
	}
	err = s.db.tx(ctx, func(tx *sql.Tx) error {
		cur, err := s.db.profile(ctx, tx, iccid)
		if err != nil {
			return err
		}
		if eid != "" && cur.EID != "" && eid != cur.EID {
			return failure(statusEIDAssociation(), "the order is linked to another EID")
		}
		if req.MatchingID != "" && cur.MatchingID != "" && req.MatchingID != cur.MatchingID {
			return failure(statusMatchingIDMismatch(), "the order has another matchingId")
		}
		if _, err := s.db.transition(ctx, tx, iccid, ev, s.now(), func(p *profileRow) error {
			if ev == EventCancelAvailable {
				p.EID, p.MatchingID, p.CCHash, p.CCAttempts, p.SMDSAddress = "", "", nil, 0, ""
				p.DeviceEID, p.SessionTxID, p.ErrorReason = "", "", ""
			} else {
				p.ErrorReason = "cancelled by the operator (Unavailable)"
			}
			return nil
		}); err != nil {
			return err
		}
		open, err := s.db.openSessionsForProfile(ctx, tx, iccid)
		if err != nil {
			return err
		}
		for _, sess := range open {
			if err := s.db.endSession(ctx, tx, sess, sessCancelled, "order cancelled", s.now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, orderError(err)
	}
	s.log.Info("order cancelled", "iccid", iccid, "final", req.FinalProfileStatusIndicator)
	return CancelOrderResponse{Header: es9.Success()}, nil
}

func (s *Server) releaseProfile(ctx context.Context, body io.Reader) (any, error) {
	req, err := es9.Decode[ReleaseProfileRequest](body, s.cfg.MaxRequestBody)
	if err != nil {
		return nil, err
	}
	iccid, err := parseICCID(req.ICCID)
	if err != nil {
		return nil, err
	}
	err = s.db.tx(ctx, func(tx *sql.Tx) error {
		_, err := s.db.transition(ctx, tx, iccid, EventRelease, s.now(), nil)
		return err
	})
	if err != nil {
		return nil, orderError(err)
	}
	s.log.Info("profile released", "iccid", iccid)
	return ReleaseProfileResponse{Header: es9.Success()}, nil
}
