package portal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// UserAccount is the purchase metadata field userAccount: whether the user
// signed up (new) or signed in (existing). "" means the page left it unset.
type UserAccount string

// PurchaseInstrument is the purchase metadata field purchaseInstrument: the
// payment method was new or already on file. "" means unset.
type PurchaseInstrument string

// LineType is the purchase metadata field line (also spelt lineType): a line
// was added (new) or transferred (existing). "" means unset.
type LineType string

// MoDirectStatus is the purchase metadata field moDirectStatus (also spelt
// modirectStatus): how the portal flow ended. "" means unset.
type MoDirectStatus string

// Values of UserAccount, PurchaseInstrument and LineType (mobile-plans.md 3.2,
// table "Purchase metadata values"), in the lower-camel form the bridge's
// enum objects use.
const (
	UserAccountNew      UserAccount = "new"
	UserAccountExisting UserAccount = "existing"
	UserAccountBailed   UserAccount = "bailed"
	UserAccountNone     UserAccount = "none"

	PurchaseInstrumentNew      PurchaseInstrument = "new"
	PurchaseInstrumentExisting PurchaseInstrument = "existing"
	PurchaseInstrumentBailed   PurchaseInstrument = "bailed"
	PurchaseInstrumentNone     PurchaseInstrument = "none"

	LineNew      LineType = "new"
	LineExisting LineType = "existing"
	LineBailed   LineType = "bailed"
	LineNone     LineType = "none"
)

// Values of MoDirectStatus (mobile-plans.md 3.2). MoDirectCancelled is not in
// the documented table but is what the documented cancel example uses.
const (
	MoDirectComplete       MoDirectStatus = "complete"
	MoDirectServiceError   MoDirectStatus = "serviceError"
	MoDirectInvalidSIM     MoDirectStatus = "invalidSIM"
	MoDirectLogOnFailed    MoDirectStatus = "logOnFailed"
	MoDirectPurchaseFailed MoDirectStatus = "purchaseFailed"
	MoDirectClientError    MoDirectStatus = "clientError"
	MoDirectBillingError   MoDirectStatus = "billingError"
	MoDirectNone           MoDirectStatus = "none"
	MoDirectCancelled      MoDirectStatus = "cancelled"
)

// accountValues are the values of userAccount, purchaseInstrument and line.
func accountValues() []string { return []string{"new", "existing", "bailed", "none"} }

// statusValues are the values of moDirectStatus.
func statusValues() []string {
	return []string{"complete", "serviceError", "invalidSIM", "logOnFailed",
		"purchaseFailed", "clientError", "billingError", "none", "cancelled"}
}

// maxPlanName bounds planName; it is shown to the user and logged.
const maxPlanName = 256

// Meta is the purchase metadata a portal passes with every call
// (MobilePlans.createPurchaseMetaData). It is for reporting only. Enum values
// are normalised to the lower-camel constants above whatever the letter case
// the page used ("New", "BAILED" and "new" are the same); empty fields were
// not set by the page.
type Meta struct {
	UserAccount        UserAccount        `json:"userAccount,omitempty"`
	PurchaseInstrument PurchaseInstrument `json:"purchaseInstrument,omitempty"`
	Line               LineType           `json:"line,omitempty"`
	MoDirectStatus     MoDirectStatus     `json:"moDirectStatus,omitempty"`
	PlanName           string             `json:"planName"`
}

// rawMeta is the wire form: both documented spellings of two fields
// (mobile-plans.md 3.2 and 12), each value a string or null.
type rawMeta struct {
	UserAccount        json.RawMessage `json:"userAccount"`
	PurchaseInstrument json.RawMessage `json:"purchaseInstrument"`
	Line               json.RawMessage `json:"line"`
	LineType           json.RawMessage `json:"lineType"`
	MoDirectStatus     json.RawMessage `json:"moDirectStatus"`
	ModirectStatus     json.RawMessage `json:"modirectStatus"`
	PlanName           json.RawMessage `json:"planName"`
}

// parseMeta decodes a metadata object. The JSON must be an object; each
// field may be absent, null or a string; enum values are matched ignoring
// case; when both spellings of a field are present they must agree.
func parseMeta(raw json.RawMessage) (Meta, error) {
	if !isObject(raw) {
		return Meta{}, fmt.Errorf("purchase metadata must be an object")
	}
	var rm rawMeta
	if err := json.Unmarshal(raw, &rm); err != nil {
		return Meta{}, fmt.Errorf("purchase metadata: %w", err)
	}
	var m Meta
	var err error
	var s string
	if s, err = enumField("userAccount", rm.UserAccount, nil, accountValues()); err != nil {
		return Meta{}, err
	}
	m.UserAccount = UserAccount(s)
	if s, err = enumField("purchaseInstrument", rm.PurchaseInstrument, nil, accountValues()); err != nil {
		return Meta{}, err
	}
	m.PurchaseInstrument = PurchaseInstrument(s)
	if s, err = enumField("line", rm.Line, rm.LineType, accountValues()); err != nil {
		return Meta{}, err
	}
	m.Line = LineType(s)
	if s, err = enumField("moDirectStatus", rm.MoDirectStatus, rm.ModirectStatus, statusValues()); err != nil {
		return Meta{}, err
	}
	m.MoDirectStatus = MoDirectStatus(s)
	if m.PlanName, err = optString("planName", rm.PlanName); err != nil {
		return Meta{}, err
	}
	if len(m.PlanName) > maxPlanName {
		return Meta{}, fmt.Errorf("planName is longer than %d bytes", maxPlanName)
	}
	return m, nil
}

// enumField decodes one enum field given under up to two names.
func enumField(name string, a, b json.RawMessage, allowed []string) (string, error) {
	va, err := enumValue(name, a, allowed)
	if err != nil {
		return "", err
	}
	vb, err := enumValue(name, b, allowed)
	if err != nil {
		return "", err
	}
	switch {
	case va == "":
		return vb, nil
	case vb != "" && vb != va:
		return "", fmt.Errorf("%s is given twice with different values (%q, %q)", name, va, vb)
	}
	return va, nil
}

func enumValue(name string, raw json.RawMessage, allowed []string) (string, error) {
	s, err := optString(name, raw)
	if err != nil || s == "" {
		return "", err
	}
	for _, v := range allowed {
		if strings.EqualFold(v, s) {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s: unknown value %q", name, truncate(s, 40))
}

// optString decodes an absent, null or string JSON value.
func optString(name string, raw json.RawMessage) (string, error) {
	if isAbsent(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s must be a string", name)
	}
	return s, nil
}

func isAbsent(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

func isObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}
