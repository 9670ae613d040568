package portal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// MessageVersion is the value of "v" in every bridge message.
const MessageVersion = 1

// MaxMessageSize bounds one bridge message; larger ones are invalidJson.
const MaxMessageSize = 64 << 10

// MaxMinutes bounds the minute arguments (downloadDelay,
// networkRegistrationInterval, profileDownloadDelayInterval): 366 days. The
// documents give no bound; this one keeps time.Duration arithmetic far from
// overflow.
const MaxMinutes = 366 * 24 * 60

// maxContextID bounds an operation context id.
const maxContextID = 64

// The bridge objects a message can name in "object".
const (
	ObjectMobilePlans                      = "MobilePlans"
	ObjectMobilePlansInlineOperations      = "MobilePlansInlineOperations"
	ObjectMobilePlansInlineProfileDownload = "MobilePlansInlineProfileDownload"
	ObjectDataMart                         = "DataMart"
	ObjectDataMartInlineProfile            = "DataMartInlineProfile"
)

// OpSetScripts is the "op" the bridge sends when the page sets
// registrationChangedScript or profileActivationCompleteScript; every other
// op is the name of the JS method the page called.
const OpSetScripts = "setScripts"

// Message is one bridge message as the host received it: the JSON string the
// bridge sent and the origin of the frame that sent it, as the browser (not
// the page) reported it.
type Message struct {
	Raw    []byte
	Origin string
}

// Parse checks the frame origin reported by the browser and then the message
// itself (ParseMessage). Both must be https://<allowedHost>: the message's
// own "origin" field is written by page JavaScript and proves nothing alone.
func (m Message) Parse(allowedHost string) (Call, error) {
	want, err := allowedOrigin(allowedHost)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(m.Origin, want) {
		return nil, &OriginError{Origin: m.Origin, Allowed: want}
	}
	return ParseMessage(m.Raw, allowedHost)
}

// LogValue logs the origin and size only: the payload may hold an
// activation code.
func (m Message) LogValue() slog.Value {
	return slog.GroupValue(slog.String("origin", m.Origin), slog.Int("bytes", len(m.Raw)))
}

// Source tells where a call came from. Every Call embeds it.
type Source struct {
	// Object is the bridge object the page called, one of the Object*
	// constants; Op the method name, or OpSetScripts.
	Object, Op string
	// Origin is the origin the message named (already checked).
	Origin string
}

// CallSource returns s; it makes every type embedding Source a Call.
func (s Source) CallSource() Source { return s }

// Call is a parsed bridge call: *ProfileDownload, *OperationCancel,
// *BalanceAddition, *PurchaseWithProfileDownload, *PurchaseDelayedProfile,
// *CancelledPurchase, *LegacyPurchaseResult or *ScriptNames.
type Call interface {
	CallSource() Source
}

// ProfileDownload asks for an eSIM profile download:
// MobilePlansInlineOperations.notifyProfileDownload(meta, ac[, delay]) or the
// legacy notifyInlineProfileDownload(meta, ac) of
// MobilePlansInlineProfileDownload and DataMartInlineProfile.
type ProfileDownload struct {
	Source
	Meta           Meta
	ActivationCode string
	// DelayMinutes is the downloadDelay of a deferred download, nil for an
	// immediate one.
	DelayMinutes *int
	// ContextID is the operation context returned to the page ("" for the
	// legacy calls, which return none).
	ContextID string
}

// LogValue redacts the matching ID.
func (c *ProfileDownload) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("op", c.Object+"."+c.Op), slog.String("ac", RedactActivationCode(c.ActivationCode)),
		slog.String("context", c.ContextID)}
	if c.DelayMinutes != nil {
		attrs = append(attrs, slog.Int("delayMinutes", *c.DelayMinutes))
	}
	return slog.GroupValue(attrs...)
}

// OperationCancel is MobilePlansInlineOperations.notifyOperationCancel(ctx):
// cancel the deferred download started with that operation context.
type OperationCancel struct {
	Source
	ContextID string
}

// BalanceAddition is notifyBalanceAddition(meta[, iccid]) of
// MobilePlansInlineOperations (with a ContextID) or the legacy one of
// MobilePlans and DataMart (without). ICCID, when set, names the installed
// profile to switch to.
type BalanceAddition struct {
	Source
	Meta      Meta
	ICCID     string
	ContextID string
}

// PurchaseWithProfileDownload is
// MobilePlans.notifyPurchaseWithProfileDownload(meta, ac, interval): download
// now, retry network registration after NetworkRegistrationInterval minutes
// (0: at once).
type PurchaseWithProfileDownload struct {
	Source
	Meta                        Meta
	ActivationCode              string
	NetworkRegistrationInterval int
}

// LogValue redacts the matching ID.
func (c *PurchaseWithProfileDownload) LogValue() slog.Value {
	return slog.GroupValue(slog.String("op", c.Object+"."+c.Op), slog.String("ac", RedactActivationCode(c.ActivationCode)),
		slog.Int("networkRegistrationInterval", c.NetworkRegistrationInterval))
}

// PurchaseDelayedProfile is the legacy
// MobilePlans.notifyPurchaseDelayedProfile(meta, minutes): fetch the profile
// from the SM-DS after DelayMinutes.
type PurchaseDelayedProfile struct {
	Source
	Meta         Meta
	DelayMinutes int
}

// CancelledPurchase is MobilePlans.notifyCancelledPurchase(meta).
type CancelledPurchase struct {
	Source
	Meta Meta
}

// LegacyPurchaseResult is DataMart.notifyPurchaseResult(payloadString),
// decoded from the JSON string payload, including its stringified
// purchaseResult (mobile-plans.md 3.2).
type LegacyPurchaseResult struct {
	Source
	Version        string
	Success        bool
	TransactionID  string
	ActivationCode string
	ICCID          string
	// EID and OrderID come from the DM-era variant of the payload.
	EID, OrderID string
	Result       Meta
}

// LogValue redacts the matching ID.
func (c *LegacyPurchaseResult) LogValue() slog.Value {
	return slog.GroupValue(slog.String("op", c.Object+"."+c.Op), slog.Bool("success", c.Success),
		slog.String("transactionId", c.TransactionID), slog.String("ac", RedactActivationCode(c.ActivationCode)))
}

// ScriptNames carries the page's callback function names after it set
// registrationChangedScript or profileActivationCompleteScript on any of the
// three objects that have them ("" when unset). Both names are valid
// identifier paths (ValidFunctionName).
type ScriptNames struct {
	Source
	Registration, Activation string
}

// envelope is the outer JSON of a bridge message.
type envelope struct {
	V       json.RawMessage `json:"v"`
	Op      string          `json:"op"`
	Object  string          `json:"object"`
	Origin  string          `json:"origin"`
	Args    json.RawMessage `json:"args"`
	Context json.RawMessage `json:"context"`
}

// ParseMessage parses one bridge message (see doc.go for the scheme) and
// returns the typed call. Errors: *OriginError (errors.Is ErrForeignOrigin)
// when the message's origin is not https://<allowedHost>; *InvalidError
// (ErrInvalidJSON, ErrInvalidActivationCode or ErrInvalidICCID; ResultOf
// gives the activation result to report) when the call cannot be acted upon.
// allowedHost is the operator's callback host, optionally with a port; an
// invalid one gives an error that is neither of the above.
//
// ParseMessage only sees what the page wrote; a host that knows the frame
// origin from the browser should use Message.Parse.
func ParseMessage(raw []byte, allowedHost string) (Call, error) {
	want, err := allowedOrigin(allowedHost)
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxMessageSize {
		return nil, &InvalidError{Result: ActivationInvalidJSON, Reason: fmt.Sprintf("message is larger than %d bytes", MaxMessageSize)}
	}
	var env envelope
	if !isObject(raw) {
		return nil, &InvalidError{Result: ActivationInvalidJSON, Reason: "message is not a JSON object"}
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, &InvalidError{Result: ActivationInvalidJSON, Reason: "message is not valid JSON", Err: err}
	}
	if !strings.EqualFold(env.Origin, want) {
		return nil, &OriginError{Origin: env.Origin, Allowed: want, Reported: true}
	}
	p := parser{src: Source{Object: env.Object, Op: env.Op, Origin: env.Origin}}
	fail := func(reason string, err error) (Call, error) {
		return nil, p.invalid(ActivationInvalidJSON, reason, err)
	}
	if !isAbsent(env.Context) {
		var id string
		if err := json.Unmarshal(env.Context, &id); err != nil || !validContextID(id) {
			return fail("operation context is not an id of 1 to 64 letters, digits, '-' or '_'", nil)
		}
		p.ctx = id
	}
	if string(bytes.TrimSpace(env.V)) != strconv.Itoa(MessageVersion) {
		return fail(fmt.Sprintf("message version is %s, want %d", truncate(string(env.V), 16), MessageVersion), nil)
	}
	parse := p.op()
	if parse == nil {
		return fail(fmt.Sprintf("unknown operation %q on %q", truncate(env.Op, 40), truncate(env.Object, 40)), nil)
	}
	if isAbsent(env.Args) {
		return fail("the arguments could not be serialised as JSON", nil)
	}
	if !isObject(env.Args) {
		return fail("args is not an object", nil)
	}
	return parse(env.Args)
}

// allowedOrigin returns "https://<host>" for a valid callback host.
func allowedOrigin(host string) (string, error) {
	if err := checkHostPort(host); err != nil {
		return "", fmt.Errorf("portal: allowed callback host %q is not host[:port]", truncate(host, 100))
	}
	return "https://" + strings.ToLower(host), nil
}

func validContextID(id string) bool {
	if id == "" || len(id) > maxContextID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// parser holds what is known of a message while its arguments are parsed.
type parser struct {
	src Source
	ctx string
}

func (p *parser) invalid(r ActivationResult, reason string, err error) error {
	return &InvalidError{Result: r, Object: p.src.Object, Op: p.src.Op, ContextID: p.ctx, Reason: reason, Err: err}
}

// op returns the parser of the message's object and op, nil if unknown.
func (p *parser) op() func(json.RawMessage) (Call, error) {
	switch p.src.Object {
	case ObjectMobilePlansInlineOperations:
		switch p.src.Op {
		case "notifyProfileDownload":
			return p.profileDownload(true)
		case "notifyOperationCancel":
			return p.operationCancel
		case "notifyBalanceAddition":
			return p.balanceAddition(true)
		case OpSetScripts:
			return p.scriptNames
		}
	case ObjectMobilePlansInlineProfileDownload, ObjectDataMartInlineProfile:
		switch p.src.Op {
		case "notifyInlineProfileDownload":
			return p.profileDownload(false)
		case OpSetScripts:
			return p.scriptNames
		}
	case ObjectMobilePlans, ObjectDataMart:
		switch p.src.Op {
		case "notifyPurchaseWithProfileDownload":
			return p.purchaseWithProfileDownload
		case "notifyCancelledPurchase":
			return p.cancelledPurchase
		case "notifyBalanceAddition":
			return p.balanceAddition(false)
		case "notifyPurchaseDelayedProfile":
			return p.purchaseDelayedProfile
		case "notifyPurchaseResult":
			if p.src.Object == ObjectDataMart {
				return p.purchaseResult
			}
		}
	}
	return nil
}

// unmarshalArgs decodes args into v, which holds json.RawMessage fields.
func (p *parser) unmarshalArgs(args json.RawMessage, v any) error {
	if err := json.Unmarshal(args, v); err != nil {
		return p.invalid(ActivationInvalidJSON, "malformed arguments", err)
	}
	return nil
}

func (p *parser) meta(raw json.RawMessage) (Meta, error) {
	if isAbsent(raw) {
		return Meta{}, p.invalid(ActivationInvalidJSON, "purchase metadata is missing", nil)
	}
	m, err := parseMeta(raw)
	if err != nil {
		return Meta{}, p.invalid(ActivationInvalidJSON, "malformed purchase metadata", err)
	}
	return m, nil
}

func (p *parser) activationCode(raw json.RawMessage) (string, error) {
	var ac string
	if isAbsent(raw) || json.Unmarshal(raw, &ac) != nil {
		return "", p.invalid(ActivationInvalidJSON, "activationCode must be a string", nil)
	}
	if err := CheckActivationCode(ac); err != nil {
		return "", p.invalid(ActivationInvalidActivationCode, "bad activation code", err)
	}
	return ac, nil
}

func (p *parser) iccid(raw json.RawMessage) (string, error) {
	s, err := optString("iccid", raw)
	if err != nil {
		return "", p.invalid(ActivationInvalidJSON, "malformed arguments", err)
	}
	if s == "" {
		return "", nil
	}
	if err := CheckICCID(s); err != nil {
		return "", p.invalid(ActivationInvalidICCID, "bad ICCID", err)
	}
	return s, nil
}

// minutes decodes a whole number of minutes in [0, MaxMinutes]; absent or
// null gives nil.
func (p *parser) minutes(name string, raw json.RawMessage) (*int, error) {
	if isAbsent(raw) {
		return nil, nil
	}
	t := bytes.TrimSpace(raw)
	n, err := strconv.ParseInt(string(t), 10, 64)
	if err != nil || n < 0 || n > MaxMinutes {
		return nil, p.invalid(ActivationInvalidJSON, fmt.Sprintf("%s must be a whole number of minutes from 0 to %d", name, MaxMinutes), nil)
	}
	v := int(n)
	return &v, nil
}

func (p *parser) needContext() error {
	if p.ctx == "" {
		return p.invalid(ActivationInvalidJSON, "operation context is missing", nil)
	}
	return nil
}

func (p *parser) profileDownload(withContext bool) func(json.RawMessage) (Call, error) {
	return func(args json.RawMessage) (Call, error) {
		var a struct {
			Meta           json.RawMessage `json:"meta"`
			ActivationCode json.RawMessage `json:"activationCode"`
			DownloadDelay  json.RawMessage `json:"downloadDelay"`
		}
		if err := p.unmarshalArgs(args, &a); err != nil {
			return nil, err
		}
		c := &ProfileDownload{Source: p.src}
		var err error
		if withContext {
			if err = p.needContext(); err != nil {
				return nil, err
			}
			c.ContextID = p.ctx
			if c.DelayMinutes, err = p.minutes("downloadDelay", a.DownloadDelay); err != nil {
				return nil, err
			}
		}
		if c.Meta, err = p.meta(a.Meta); err != nil {
			return nil, err
		}
		if c.ActivationCode, err = p.activationCode(a.ActivationCode); err != nil {
			return nil, err
		}
		return c, nil
	}
}

func (p *parser) operationCancel(json.RawMessage) (Call, error) {
	if err := p.needContext(); err != nil {
		return nil, err
	}
	return &OperationCancel{Source: p.src, ContextID: p.ctx}, nil
}

func (p *parser) balanceAddition(withContext bool) func(json.RawMessage) (Call, error) {
	return func(args json.RawMessage) (Call, error) {
		var a struct {
			Meta  json.RawMessage `json:"meta"`
			ICCID json.RawMessage `json:"iccid"`
		}
		if err := p.unmarshalArgs(args, &a); err != nil {
			return nil, err
		}
		c := &BalanceAddition{Source: p.src}
		var err error
		if withContext {
			if err = p.needContext(); err != nil {
				return nil, err
			}
			c.ContextID = p.ctx
		}
		if c.Meta, err = p.meta(a.Meta); err != nil {
			return nil, err
		}
		if c.ICCID, err = p.iccid(a.ICCID); err != nil {
			return nil, err
		}
		return c, nil
	}
}

func (p *parser) purchaseWithProfileDownload(args json.RawMessage) (Call, error) {
	var a struct {
		Meta                        json.RawMessage `json:"meta"`
		ActivationCode              json.RawMessage `json:"activationCode"`
		NetworkRegistrationInterval json.RawMessage `json:"networkRegistrationInterval"`
	}
	if err := p.unmarshalArgs(args, &a); err != nil {
		return nil, err
	}
	c := &PurchaseWithProfileDownload{Source: p.src}
	var err error
	if c.Meta, err = p.meta(a.Meta); err != nil {
		return nil, err
	}
	iv, err := p.minutes("networkRegistrationInterval", a.NetworkRegistrationInterval)
	if err != nil {
		return nil, err
	}
	if iv != nil {
		c.NetworkRegistrationInterval = *iv
	}
	if c.ActivationCode, err = p.activationCode(a.ActivationCode); err != nil {
		return nil, err
	}
	return c, nil
}

func (p *parser) purchaseDelayedProfile(args json.RawMessage) (Call, error) {
	var a struct {
		Meta  json.RawMessage `json:"meta"`
		Delay json.RawMessage `json:"profileDownloadDelayInterval"`
	}
	if err := p.unmarshalArgs(args, &a); err != nil {
		return nil, err
	}
	c := &PurchaseDelayedProfile{Source: p.src}
	var err error
	if c.Meta, err = p.meta(a.Meta); err != nil {
		return nil, err
	}
	d, err := p.minutes("profileDownloadDelayInterval", a.Delay)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, p.invalid(ActivationInvalidJSON, "profileDownloadDelayInterval is missing", nil)
	}
	c.DelayMinutes = *d
	return c, nil
}

func (p *parser) cancelledPurchase(args json.RawMessage) (Call, error) {
	var a struct {
		Meta json.RawMessage `json:"meta"`
	}
	if err := p.unmarshalArgs(args, &a); err != nil {
		return nil, err
	}
	m, err := p.meta(a.Meta)
	if err != nil {
		return nil, err
	}
	return &CancelledPurchase{Source: p.src, Meta: m}, nil
}

func (p *parser) scriptNames(args json.RawMessage) (Call, error) {
	var a struct {
		Registration json.RawMessage `json:"registrationChangedScript"`
		Activation   json.RawMessage `json:"profileActivationCompleteScript"`
	}
	if err := p.unmarshalArgs(args, &a); err != nil {
		return nil, err
	}
	c := &ScriptNames{Source: p.src}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *string
	}{
		{"registrationChangedScript", a.Registration, &c.Registration},
		{"profileActivationCompleteScript", a.Activation, &c.Activation},
	} {
		s, err := optString(f.name, f.raw)
		if err != nil {
			return nil, p.invalid(ActivationInvalidJSON, "malformed arguments", err)
		}
		if s != "" {
			if err := ValidFunctionName(s); err != nil {
				return nil, p.invalid(ActivationInvalidJSON, f.name+" is not a function name", err)
			}
		}
		*f.dst = s
	}
	return c, nil
}

// purchaseResult decodes DataMart.notifyPurchaseResult's payload: a JSON
// string holding an object whose purchaseResult is itself a JSON string
// (an object is accepted there too).
func (p *parser) purchaseResult(args json.RawMessage) (Call, error) {
	var a struct {
		Payload json.RawMessage `json:"payload"`
	}
	if err := p.unmarshalArgs(args, &a); err != nil {
		return nil, err
	}
	var payload string
	if isAbsent(a.Payload) || json.Unmarshal(a.Payload, &payload) != nil {
		return nil, p.invalid(ActivationInvalidJSON, "the payload must be a JSON string (JSON.stringify)", nil)
	}
	if !isObject(json.RawMessage(payload)) {
		return nil, p.invalid(ActivationInvalidJSON, "the payload string is not a JSON object", nil)
	}
	var r struct {
		Ver            json.RawMessage `json:"ver"`
		PurchaseResult json.RawMessage `json:"purchaseResult"`
		Success        json.RawMessage `json:"success"`
		TransactionID  json.RawMessage `json:"transactionId"`
		ActivationCode json.RawMessage `json:"activationCode"`
		ICCID          json.RawMessage `json:"iccid"`
		EID            json.RawMessage `json:"eId"`
		OrderID        json.RawMessage `json:"orderId"`
	}
	if err := json.Unmarshal([]byte(payload), &r); err != nil {
		return nil, p.invalid(ActivationInvalidJSON, "the payload string is not valid JSON", err)
	}
	c := &LegacyPurchaseResult{Source: p.src}
	if isAbsent(r.Success) || json.Unmarshal(r.Success, &c.Success) != nil {
		return nil, p.invalid(ActivationInvalidJSON, "success must be true or false", nil)
	}
	var err error
	if c.Version, err = stringOrNumber("ver", r.Ver); err != nil {
		return nil, p.invalid(ActivationInvalidJSON, "malformed payload", err)
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *string
		max  int
	}{
		{"transactionId", r.TransactionID, &c.TransactionID, 64},
		{"eId", r.EID, &c.EID, 64},
		{"orderId", r.OrderID, &c.OrderID, 256},
	} {
		if *f.dst, err = optString(f.name, f.raw); err != nil {
			return nil, p.invalid(ActivationInvalidJSON, "malformed payload", err)
		}
		if len(*f.dst) > f.max {
			return nil, p.invalid(ActivationInvalidJSON, fmt.Sprintf("%s is longer than %d bytes", f.name, f.max), nil)
		}
	}
	inner := r.PurchaseResult
	if isAbsent(inner) {
		return nil, p.invalid(ActivationInvalidJSON, "purchaseResult is missing", nil)
	}
	if !isObject(inner) {
		var s string
		if json.Unmarshal(inner, &s) != nil {
			return nil, p.invalid(ActivationInvalidJSON, "purchaseResult must be a JSON string", nil)
		}
		inner = json.RawMessage(s)
	}
	if c.Result, err = parseMeta(inner); err != nil {
		return nil, p.invalid(ActivationInvalidJSON, "malformed purchaseResult", err)
	}
	ac, err := optString("activationCode", r.ActivationCode)
	if err != nil {
		return nil, p.invalid(ActivationInvalidJSON, "malformed payload", err)
	}
	if ac != "" {
		if err := CheckActivationCode(ac); err != nil {
			return nil, p.invalid(ActivationInvalidActivationCode, "bad activation code", err)
		}
	}
	c.ActivationCode = ac
	if c.ICCID, err = p.iccid(r.ICCID); err != nil {
		return nil, err
	}
	return c, nil
}

// stringOrNumber decodes an absent/null, string or number JSON value as a
// string.
func stringOrNumber(name string, raw json.RawMessage) (string, error) {
	if isAbsent(raw) {
		return "", nil
	}
	var n json.Number
	t := bytes.TrimSpace(raw)
	if t[0] != '"' && json.Unmarshal(t, &n) == nil {
		return n.String(), nil
	}
	var s string
	if err := json.Unmarshal(t, &s); err != nil || len(s) > 16 {
		return "", errors.New(name + " must be a short string or a number")
	}
	return s, nil
}
