package operator

import "time"

// PlanKind tells postpaid from prepaid plans; it decides the GetBalance
// type.
type PlanKind string

// Plan kinds.
const (
	Postpaid PlanKind = "postpaid"
	Prepaid  PlanKind = "prepaid"
)

// Fulfilment is how the confirmation page hands a new profile to the app.
type Fulfilment string

// Fulfilments.
const (
	// FulfilInline: MobilePlansInlineOperations.notifyProfileDownload(meta,
	// ac), or with a delay when the buyer chose a later download.
	FulfilInline Fulfilment = "inline"
	// FulfilAsync: MobilePlans.notifyPurchaseWithProfileDownload(meta, ac,
	// interval): the profile downloads now, the network follows later.
	FulfilAsync Fulfilment = "async"
)

// Plan is a product of the portal.
type Plan struct {
	ID   string
	Kind PlanKind
	// Name is the reporting name (planName of the bridge metadata); the
	// page shows the localised name (message key "plan.<ID>.name").
	Name string
	// DataMB is the data allowance; 0 means unlimited.
	DataMB float64
	// Validity is the duration of the plan (prepaid) or of a billing
	// period (postpaid).
	Validity time.Duration
	// PriceCents is the price in US cents (per period for postpaid).
	PriceCents int
	Fulfilment Fulfilment
	// Locations are the ISO 3166-1 countries the plan works in.
	Locations []string
}

// TopUp is an "Add data" product for an existing prepaid line.
type TopUp struct {
	ID         string
	Name       string
	DataMB     float64
	PriceCents int
	// Validity: a top-up extends the balance's expiry to at least now plus
	// Validity.
	Validity time.Duration
}

const day = 24 * time.Hour

// Plans returns the plan catalogue in display order: postpaid first.
func Plans() []Plan {
	travel := []string{"US", "CA", "MX", "GB", "IE", "FR", "DE", "AT", "CH", "ES", "PT", "IT", "NL", "BE",
		"LU", "DK", "SE", "NO", "FI", "PL", "CZ", "GR", "JP", "KR", "AU", "NZ", "SG"}
	return []Plan{
		{ID: "unlimited", Kind: Postpaid, Name: "Contoso Unlimited postpaid", Validity: 30 * day, PriceCents: 4000,
			Fulfilment: FulfilInline, Locations: []string{"US", "CA", "MX"}},
		{ID: "business-20gb", Kind: Postpaid, Name: "Contoso Business 20 GB postpaid", DataMB: 20480, Validity: 30 * day,
			PriceCents: 3000, Fulfilment: FulfilAsync, Locations: []string{"US", "CA"}},
		{ID: "prepaid-5gb", Kind: Prepaid, Name: "Contoso 5 GB prepaid", DataMB: 5120, Validity: 30 * day,
			PriceCents: 1500, Fulfilment: FulfilInline, Locations: []string{"US"}},
		{ID: "travel-1gb", Kind: Prepaid, Name: "Contoso Travel 1 GB", DataMB: 1024, Validity: 7 * day,
			PriceCents: 900, Fulfilment: FulfilInline, Locations: travel},
	}
}

// TopUps returns the "Add data" products.
func TopUps() []TopUp {
	return []TopUp{
		{ID: "add-1gb", Name: "Add 1 GB", DataMB: 1024, PriceCents: 500, Validity: 30 * day},
		{ID: "add-5gb", Name: "Add 5 GB", DataMB: 5120, PriceCents: 1500, Validity: 30 * day},
	}
}

func planByID(id string) (Plan, bool) {
	for _, p := range Plans() {
		if p.ID == id {
			return p, true
		}
	}
	return Plan{}, false
}

func topUpByID(id string) (TopUp, bool) {
	for _, t := range TopUps() {
		if t.ID == id {
			return t, true
		}
	}
	return TopUp{}, false
}
