package discovery

import (
	"fmt"
	"net/http"
	"time"
)

// OperatorList is the answer of GET /v1/operators.
type OperatorList struct {
	// Country is the ISO-2 country the list is for.
	Country string `json:"country"`
	// CountrySource tells where Country came from: "mcc", "query", "ip" or
	// "default".
	CountrySource string            `json:"countrySource"`
	Operators     []OperatorSummary `json:"operators"`
}

// OperatorSummary is one operator of an OperatorList.
type OperatorSummary struct {
	ID           string   `json:"id"`
	Brand        string   `json:"brand"`
	LogoURL      string   `json:"logoUrl,omitempty"`
	PortalURL    string   `json:"portalUrl"`
	CallbackHost string   `json:"callbackHost"`
	Countries    []string `json:"countries"`
	// Owned is set when one of the device's ICCIDs is in the operator's
	// ranges; OwnedICCIDs lists them (the portal's iccids parameter).
	Owned       bool     `json:"owned"`
	OwnedICCIDs []string `json:"ownedIccids,omitempty"`
}

// OperatorDetail is the answer of GET /v1/operators/{id}.
type OperatorDetail struct {
	ID           string       `json:"id"`
	Brand        string       `json:"brand"`
	LogoURL      string       `json:"logoUrl,omitempty"`
	PortalURL    string       `json:"portalUrl"`
	CallbackHost string       `json:"callbackHost"`
	Countries    []string     `json:"countries"`
	ICCIDRanges  []ICCIDRange `json:"iccidRanges,omitempty"`
	// Gateway holds every template; nil means the standard gateway page.
	Gateway *Gateway `json:"gateway,omitempty"`
	// SupportsBalance: the operator has an MO API for GetBalance.
	SupportsBalance bool `json:"supportsBalance"`
	// SupportsOffers: the operator picks gateway templates with GetOffers.
	SupportsOffers bool `json:"supportsOffers"`
}

// Gateway template sources of GatewaySelection.Source.
const (
	TemplateFromDefault = "default"
	TemplateFromOffers  = "offers"
)

// GatewaySelection is the answer of GET /v1/operators/{id}/gateway.
type GatewaySelection struct {
	OperatorID string `json:"operatorId"`
	// Enhanced is false when the operator has no templates: show the
	// standard gateway page (Template is then nil).
	Enhanced   bool   `json:"enhanced"`
	TemplateID string `json:"templateId,omitempty"`
	// Source is "offers" when GetOffers chose the template, else "default".
	Source string `json:"source"`
	// FallbackReason says why GetOffers did not decide (an error code such
	// as "mo_timeout", or "unknown_gateway_id", "no_offer").
	FallbackReason string           `json:"fallbackReason,omitempty"`
	Template       *GatewayTemplate `json:"template,omitempty"`
}

// APNResult is the answer of GET /v1/operators/{id}/apn.
type APNResult struct {
	OperatorID string `json:"operatorId"`
	APN        APN    `json:"apn"`
	// Matched lists the identifiers the chosen APN matched ("mccmnc",
	// "iccid"); empty for an unrestricted APN.
	Matched []string `json:"matched"`
}

// Balance is the answer of GET /v1/balance.
type Balance struct {
	ICCID      string      `json:"iccid"`
	OperatorID string      `json:"operatorId"`
	Type       BalanceType `json:"type"`
	// DataRemainingInMB is absent when the MO gave none (e.g. MODIRECT).
	DataRemainingInMB *float64 `json:"dataRemainingInMB,omitempty"`
	// TimeRemaining is the MO's ISO 8601 duration, TimeRemainingSeconds
	// the same in whole seconds.
	TimeRemaining        string `json:"timeRemaining,omitempty"`
	TimeRemainingSeconds *int64 `json:"timeRemainingSeconds,omitempty"`
	// TransactionID is the X-MS-DM-TransactionId of the MO call.
	TransactionID string `json:"transactionId"`
}

// Error codes of the JSON error body {"error":{"code":...,"message":...}}.
const (
	CodeBadParameter        = "bad_parameter"         // 400, Param names the parameter
	CodeNotFound            = "not_found"             // 404, no such endpoint
	CodeMethodNotAllowed    = "method_not_allowed"    // 405
	CodeOperatorNotFound    = "operator_not_found"    // 404
	CodeLogoNotFound        = "logo_not_found"        // 404
	CodeAPNNotFound         = "apn_not_found"         // 404
	CodeCountryUnknown      = "country_unknown"       // 422, no mcc/country and the client IP is unknown
	CodeICCIDNotRecognized  = "iccid_not_recognized"  // 404, no operator owns the ICCID
	CodeBalanceNotSupported = "balance_not_supported" // 501, the operator has no MO API
	CodeMONotConfigured     = "mo_not_configured"     // 503, the service has no MO client certificate
	CodeMOBadRequest        = "mo_bad_request"        // 400, the MO refused a parameter (message passed on)
	CodeMOUnauthorized      = "mo_unauthorized"       // 502, MO said 401 (client certificate / credentials)
	CodeMOForbidden         = "mo_forbidden"          // 502, MO said 403 (client certificate not trusted)
	CodeSIMNotFound         = "sim_not_found"         // 404, MO does not know the SIM
	CodeMOConflict          = "mo_conflict"           // 409, MO saw a repeated transaction id
	CodeMOThrottled         = "mo_throttled"          // 429, Retry-After passed on
	CodeMOError             = "mo_error"              // 502, MO 5xx
	CodeMOBadResponse       = "mo_bad_response"       // 502, unexpected status or body
	CodeMOTimeout           = "mo_timeout"            // 504
	CodeMOTLS               = "mo_tls_error"          // 502, TLS handshake / certificate verification failed
	CodeMOUnreachable       = "mo_unreachable"        // 502, connection failed
	CodeInternal            = "internal"              // 500
)

// APIError is an error answer of the service, as sent and as the Client
// returns it.
type APIError struct {
	Status  int    // HTTP status
	Code    string // one of the Code constants
	Message string
	// Param names the invalid request parameter (CodeBadParameter).
	Param string
	// RetryAfter is the server's Retry-After (CodeMOThrottled); 0 if none.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	return fmt.Sprintf("discovery: %d %s: %s", e.Status, e.Code, e.Message)
}

// errorBody is the JSON shape of an error answer.
type errorBody struct {
	Error struct {
		Code              string `json:"code"`
		Message           string `json:"message"`
		Param             string `json:"param,omitempty"`
		RetryAfterSeconds int64  `json:"retryAfterSeconds,omitempty"`
	} `json:"error"`
}

func newAPIError(status int, code, format string, args ...any) *APIError {
	return &APIError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func paramError(fe *FieldError) *APIError {
	return &APIError{Status: http.StatusBadRequest, Code: CodeBadParameter, Param: fe.Field,
		Message: "invalid parameter " + fe.Field + ": " + fe.Reason}
}
