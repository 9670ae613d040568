package es9

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode"
)

// Paths of the ES9+ functions on the SM-DP+ (HTTPS POST).
const (
	PathInitiateAuthentication = "/gsma/rsp2/es9plus/initiateAuthentication"
	PathAuthenticateClient     = "/gsma/rsp2/es9plus/authenticateClient"
	PathGetBoundProfilePackage = "/gsma/rsp2/es9plus/getBoundProfilePackage"
	PathHandleNotification     = "/gsma/rsp2/es9plus/handleNotification"
	PathCancelSession          = "/gsma/rsp2/es9plus/cancelSession"
)

// Header values.
const (
	UserAgent           = "gsma-rsp-lpad"
	AdminProtocol       = "gsma/rsp/v2.2.2"
	HeaderAdminProtocol = "X-Admin-Protocol"
	ContentType         = "application/json;charset=UTF-8"
)

// Values of FunctionExecutionStatus.Status.
const (
	StatusSuccess = "Executed-Success"
	StatusWarning = "Executed-WithWarning"
	StatusFailed  = "Failed"
	StatusExpired = "Expired"
)

// DefaultMaxBody is the body size limit Decode applies when given a
// non-positive limit. A Bound Profile Package in base64 stays well below it.
const DefaultMaxBody = 4 << 20

// Decoding errors; test with errors.Is.
var (
	// ErrTooLarge: the body exceeds the size limit.
	ErrTooLarge = errors.New("es9: body too large")
	// ErrMalformed: the body is not valid JSON of the expected shape.
	ErrMalformed = errors.New("es9: malformed body")
)

// StatusCodeData details a failed function execution.
type StatusCodeData struct {
	SubjectCode       string `json:"subjectCode"`
	ReasonCode        string `json:"reasonCode"`
	SubjectIdentifier string `json:"subjectIdentifier,omitempty"`
	Message           string `json:"message,omitempty"`
}

// FunctionExecutionStatus says whether the function executed.
type FunctionExecutionStatus struct {
	Status         string          `json:"status"`
	StatusCodeData *StatusCodeData `json:"statusCodeData,omitempty"`
}

// ResponseHeader is the header of every ES9+ response body.
type ResponseHeader struct {
	FunctionExecutionStatus FunctionExecutionStatus `json:"functionExecutionStatus"`
}

// Success returns the header of a successful execution.
func Success() ResponseHeader {
	return ResponseHeader{FunctionExecutionStatus: FunctionExecutionStatus{Status: StatusSuccess}}
}

// Failure returns a Failed header carrying s and message.
func Failure(s Status, message string) ResponseHeader {
	return ResponseHeader{FunctionExecutionStatus: FunctionExecutionStatus{
		Status:         StatusFailed,
		StatusCodeData: &StatusCodeData{SubjectCode: s.Subject, ReasonCode: s.Reason, Message: message},
	}}
}

// Err returns nil for Executed-Success and Executed-WithWarning, else an
// *Error naming function (e.g. "authenticateClient") and the status data.
func (h ResponseHeader) Err(function string) error {
	st := h.FunctionExecutionStatus
	switch st.Status {
	case StatusSuccess, StatusWarning:
		return nil
	}
	e := &Error{Function: function, Status: st.Status}
	if d := st.StatusCodeData; d != nil {
		e.Subject, e.Reason, e.Message = d.SubjectCode, d.ReasonCode, d.Message
	}
	return e
}

// B64 is binary data carried in JSON as a standard base64 string. Decoding
// ignores white space (some servers wrap lines) and accepts missing padding;
// an empty string or null decodes as nil.
type B64 []byte

// MarshalJSON returns the standard base64 encoding as a JSON string.
func (b B64) MarshalJSON() ([]byte, error) {
	return []byte(`"` + base64.StdEncoding.EncodeToString(b) + `"`), nil
}

// UnmarshalJSON decodes a JSON string of base64.
func (b *B64) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*b = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("es9: base64 field: %w", err)
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	v, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		var rawErr error
		if v, rawErr = base64.RawStdEncoding.DecodeString(s); rawErr != nil {
			return fmt.Errorf("es9: base64 field: %w", err)
		}
	}
	if len(v) == 0 {
		v = nil
	}
	*b = v
	return nil
}

// InitiateAuthenticationRequest is the body of initiateAuthentication.
type InitiateAuthenticationRequest struct {
	SMDPAddress    string `json:"smdpAddress"`
	EUICCChallenge B64    `json:"euiccChallenge"` // the raw 16 bytes
	EUICCInfo1     B64    `json:"euiccInfo1"`     // BF20 TLV
}

// InitiateAuthenticationResponse is the answer to initiateAuthentication.
type InitiateAuthenticationResponse struct {
	Header              ResponseHeader `json:"header"`
	TransactionID       string         `json:"transactionId,omitempty"`
	ServerSigned1       B64            `json:"serverSigned1,omitempty"`       // 30 TLV
	ServerSignature1    B64            `json:"serverSignature1,omitempty"`    // 5F37 TLV
	EUICCCIPKIDToBeUsed B64            `json:"euiccCiPKIdToBeUsed,omitempty"` // 04 TLV
	ServerCertificate   B64            `json:"serverCertificate,omitempty"`   // DER CERT.DPauth
}

// AuthenticateClientRequest is the body of authenticateClient.
type AuthenticateClientRequest struct {
	TransactionID              string `json:"transactionId"`
	AuthenticateServerResponse B64    `json:"authenticateServerResponse"` // BF38 TLV
}

// AuthenticateClientResponse is the answer to authenticateClient.
type AuthenticateClientResponse struct {
	Header          ResponseHeader `json:"header"`
	TransactionID   string         `json:"transactionId,omitempty"`
	ProfileMetadata B64            `json:"profileMetadata,omitempty"` // BF25 TLV
	SMDPSigned2     B64            `json:"smdpSigned2,omitempty"`     // 30 TLV
	SMDPSignature2  B64            `json:"smdpSignature2,omitempty"`  // 5F37 TLV
	SMDPCertificate B64            `json:"smdpCertificate,omitempty"` // DER CERT.DPpb
}

// GetBoundProfilePackageRequest is the body of getBoundProfilePackage.
type GetBoundProfilePackageRequest struct {
	TransactionID           string `json:"transactionId"`
	PrepareDownloadResponse B64    `json:"prepareDownloadResponse"` // BF21 TLV
}

// GetBoundProfilePackageResponse is the answer to getBoundProfilePackage.
type GetBoundProfilePackageResponse struct {
	Header              ResponseHeader `json:"header"`
	TransactionID       string         `json:"transactionId,omitempty"`
	BoundProfilePackage B64            `json:"boundProfilePackage,omitempty"` // BF36 TLV
}

// HandleNotificationRequest is the body of handleNotification; the answer
// is HTTP 204 without a body.
type HandleNotificationRequest struct {
	PendingNotification B64 `json:"pendingNotification"` // BF37 or 30 TLV
}

// CancelSessionRequest is the body of cancelSession.
type CancelSessionRequest struct {
	TransactionID         string `json:"transactionId"`
	CancelSessionResponse B64    `json:"cancelSessionResponse"` // BF41 TLV
}

// CancelSessionResponse is the answer to cancelSession.
type CancelSessionResponse struct {
	Header ResponseHeader `json:"header"`
}

// Decode reads one JSON body of at most max bytes (DefaultMaxBody when max
// is not positive) from r into a T. Unknown fields are ignored. Errors wrap
// ErrTooLarge or ErrMalformed, or are read errors.
func Decode[T any](r io.Reader, max int64) (T, error) {
	var v T
	if max <= 0 {
		max = DefaultMaxBody
	}
	limit := max
	if limit < math.MaxInt64 {
		limit++ // one byte more, to notice an oversized body
	}
	b, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return v, fmt.Errorf("es9: read body: %w", err)
	}
	if int64(len(b)) > max {
		return v, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		var zero T
		return zero, fmt.Errorf("%w: %T: %w", ErrMalformed, v, err)
	}
	return v, nil
}
