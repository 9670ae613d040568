package discovery

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"testing"
)

func ids(list OperatorList) []string {
	out := []string{}
	for _, o := range list.Operators {
		out = append(out, o.ID)
	}
	return out
}

func TestCountrySelection(t *testing.T) {
	s := newTestService(t, Config{
		Seed: true,
		IPCountries: []IPCountry{
			{Prefix: netip.MustParsePrefix("203.0.113.0/24"), Country: "gb"},
			{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Country: "DE"},
			{Prefix: netip.MustParsePrefix("198.51.100.128/25"), Country: "GB"},
			{Prefix: netip.MustParsePrefix("10.20.0.0/16"), Country: "DE"},
			{Prefix: netip.MustParsePrefix("2001:db8::/32"), Country: "GB"},
		},
	})
	tests := []struct {
		name        string
		query       string
		remote      string
		wantCountry string
		wantSource  string
		wantIDs     []string
	}{
		{"test MCC 001 is US", "mcc=001", "203.0.113.9:1000", "US", CountryFromMCC, []string{ContosoID}},
		{"MCC 310", "mcc=310", "127.0.0.1:1", "US", CountryFromMCC, []string{ContosoID}},
		{"MCC 316", "mcc=316", "127.0.0.1:1", "US", CountryFromMCC, []string{ContosoID}},
		{"MCC 234", "mcc=234", "127.0.0.1:1", "GB", CountryFromMCC, []string{FabrikamID}},
		{"MCC 235", "mcc=235", "127.0.0.1:1", "GB", CountryFromMCC, []string{FabrikamID}},
		{"MCC 262", "mcc=262", "127.0.0.1:1", "DE", CountryFromMCC, []string{NorthwindID}},
		{"MCC beats country parameter", "mcc=262&country=US", "127.0.0.1:1", "DE", CountryFromMCC, []string{NorthwindID}},
		{"unknown MCC falls back to country", "mcc=999&country=gb", "127.0.0.1:1", "GB", CountryFromQuery, []string{FabrikamID}},
		{"unknown MCC falls back to IP", "mcc=999", "203.0.113.9:1000", "GB", CountryFromIP, []string{FabrikamID}},
		{"country parameter beats IP", "country=de", "203.0.113.9:1000", "DE", CountryFromQuery, []string{NorthwindID}},
		{"IP table", "", "203.0.113.200:443", "GB", CountryFromIP, []string{FabrikamID}},
		{"longest prefix wins", "", "198.51.100.200:443", "GB", CountryFromIP, []string{FabrikamID}},
		{"shorter prefix", "", "198.51.100.7:443", "DE", CountryFromIP, []string{NorthwindID}},
		{"IPv4-mapped IPv6", "", "[::ffff:203.0.113.7]:443", "GB", CountryFromIP, []string{FabrikamID}},
		{"IPv6 table", "", "[2001:db8::1]:443", "GB", CountryFromIP, []string{FabrikamID}},
		{"table beats private default", "", "10.20.1.1:5000", "DE", CountryFromIP, []string{NorthwindID}},
		{"loopback uses default", "", "127.0.0.1:5000", "US", CountryFromDefault, []string{ContosoID}},
		{"IPv6 loopback uses default", "", "[::1]:5000", "US", CountryFromDefault, []string{ContosoID}},
		{"private uses default", "", "192.168.1.20:5000", "US", CountryFromDefault, []string{ContosoID}},
		{"country without operators", "country=FR", "127.0.0.1:1", "FR", CountryFromQuery, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(s.Handler(), "/v1/operators?"+tt.query, tt.remote)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			list := decodeBody[OperatorList](t, rec)
			if list.Country != tt.wantCountry || list.CountrySource != tt.wantSource {
				t.Errorf("country %s from %s, want %s from %s", list.Country, list.CountrySource, tt.wantCountry, tt.wantSource)
			}
			if got := ids(list); !slices.Equal(got, tt.wantIDs) {
				t.Errorf("operators %v, want %v", got, tt.wantIDs)
			}
		})
	}

	t.Run("public address not in table", func(t *testing.T) {
		wantError(t, serve(s.Handler(), "/v1/operators", "192.0.2.1:80"), http.StatusUnprocessableEntity, CodeCountryUnknown, "")
	})
	t.Run("configured default country", func(t *testing.T) {
		de := newTestService(t, Config{Seed: true, DefaultCountry: "de"})
		list := decodeBody[OperatorList](t, serve(de.Handler(), "/v1/operators", "10.0.0.1:1"))
		if list.Country != "DE" || !slices.Equal(ids(list), []string{NorthwindID}) {
			t.Errorf("got %s %v", list.Country, ids(list))
		}
	})
	t.Run("configured MCC", func(t *testing.T) {
		m := newTestService(t, Config{Seed: true, MCCCountries: map[string]string{"001": "gb", "208": "FR"}})
		list := decodeBody[OperatorList](t, serve(m.Handler(), "/v1/operators?mcc=001", "127.0.0.1:1"))
		if list.Country != "GB" || !slices.Equal(ids(list), []string{FabrikamID}) {
			t.Errorf("got %s %v", list.Country, ids(list))
		}
	})
}

func TestOwnership(t *testing.T) {
	s := newTestService(t, Config{Seed: true})
	tests := []struct {
		name      string
		query     string
		wantOwned map[string][]string // operator -> owned ICCIDs; absent = not owned
		wantIDs   []string
	}{
		{"no ICCIDs", "country=US", nil, []string{ContosoID}},
		{"Contoso prefix", "country=US&iccids=" + contosoICCID, map[string][]string{ContosoID: {contosoICCID}}, []string{ContosoID}},
		{"trailing F stripped", "country=US&iccids=" + contosoICCID + "F", map[string][]string{ContosoID: {contosoICCID}}, []string{ContosoID}},
		{"two Contoso ICCIDs and a foreign one", "country=US&iccids=" + contosoICCID + "," + unknownICCID + "," + smdpICCID,
			map[string][]string{ContosoID: {contosoICCID, smdpICCID}}, []string{ContosoID}},
		{"foreign ICCID only", "country=US&iccids=" + unknownICCID, nil, []string{ContosoID}},
		{"from-to range", "country=GB&iccids=" + fabrikamICCID, map[string][]string{FabrikamID: {fabrikamICCID}}, []string{FabrikamID}},
		{"below the range", "country=GB&iccids=8944199999999999999", nil, []string{FabrikamID}},
		{"above the range", "country=GB&iccids=8944300000000000000", nil, []string{FabrikamID}},
		{"upper bound inclusive", "country=GB&iccids=8944299999999999999", map[string][]string{FabrikamID: {"8944299999999999999"}}, []string{FabrikamID}},
		{"owner in another country is not listed", "country=US&iccids=" + northwindICCID, nil, []string{ContosoID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(s.Handler(), "/v1/operators?"+tt.query, "127.0.0.1:1")
			list := decodeBody[OperatorList](t, rec)
			if got := ids(list); !slices.Equal(got, tt.wantIDs) {
				t.Fatalf("operators %v, want %v", got, tt.wantIDs)
			}
			for _, o := range list.Operators {
				want, owned := tt.wantOwned[o.ID]
				if o.Owned != owned || !slices.Equal(o.OwnedICCIDs, want) {
					t.Errorf("%s: owned %v %v, want %v %v", o.ID, o.Owned, o.OwnedICCIDs, owned, want)
				}
			}
		})
	}
}

// filterOperator is a minimal valid operator in country FR.
func filterOperator(id, brand string) Operator {
	return Operator{ID: id, Brand: brand, PortalURL: "https://" + id + ".example/portal", CallbackHost: id + ".example", Countries: []string{"FR"}}
}

func TestFiltersAndSorting(t *testing.T) {
	s := newTestService(t, Config{})
	ctx := context.Background()
	ops := []Operator{
		func() Operator {
			o := filterOperator("oem-only", "Surface Connect")
			o.DeviceAllow = []DeviceFilter{{Make: "Microsoft Corporation", Model: "Surface Pro"}, {Make: "Contoso PCs"}}
			return o
		}(),
		func() Operator {
			o := filterOperator("no-old-laptops", "beta net")
			o.DeviceDeny = []DeviceFilter{{Make: "Fabrikam", Model: "Laptop 1"}}
			return o
		}(),
		func() Operator {
			o := filterOperator("eum-only", "Alpha Mobile")
			o.EIDAllow = []string{"8904903200"}
			return o
		}(),
		func() Operator {
			o := filterOperator("eum-deny", "alpha mobile")
			o.EIDDeny = []string{"89033"}
			return o
		}(),
		filterOperator("plain", "ZETA"),
		filterOperator("a-plain", "Zeta"),
	}
	for _, o := range ops {
		if err := s.UpsertOperator(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	const (
		eidAllowed = "89049032000001000000000000000001"
		eidDenied  = "89033023422130000000000199055797"
		eidOther   = "89086030202200000022000005000001"
	)
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		// Sorted by brand ignoring case; equal brands keep id order.
		{"no device data", Query{Country: "FR"}, []string{"eum-deny", "no-old-laptops", "a-plain", "plain"}},
		{"allowed EID", Query{Country: "FR", EID: eidAllowed}, []string{"eum-deny", "eum-only", "no-old-laptops", "a-plain", "plain"}},
		{"denied EID", Query{Country: "FR", EID: eidDenied}, []string{"no-old-laptops", "a-plain", "plain"}},
		{"other EID", Query{Country: "FR", EID: eidOther}, []string{"eum-deny", "no-old-laptops", "a-plain", "plain"}},
		{"OEM make and model", Query{Country: "FR", Make: "microsoft corporation", Model: "SURFACE PRO"},
			[]string{"eum-deny", "no-old-laptops", "oem-only", "a-plain", "plain"}},
		{"OEM make, other model", Query{Country: "FR", Make: "Microsoft Corporation", Model: "Surface Go"},
			[]string{"eum-deny", "no-old-laptops", "a-plain", "plain"}},
		{"OEM make with any model", Query{Country: "FR", Make: "Contoso PCs", Model: "X1"},
			[]string{"eum-deny", "no-old-laptops", "oem-only", "a-plain", "plain"}},
		{"denied model", Query{Country: "FR", Make: "Fabrikam", Model: "laptop 1"}, []string{"eum-deny", "a-plain", "plain"}},
		{"other model of denied make", Query{Country: "FR", Make: "Fabrikam", Model: "Laptop 2"},
			[]string{"eum-deny", "no-old-laptops", "a-plain", "plain"}},
		{"everything", Query{Country: "FR", EID: eidAllowed, Make: "Contoso PCs"},
			[]string{"eum-deny", "eum-only", "no-old-laptops", "oem-only", "a-plain", "plain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(s.Handler(), "/v1/operators?"+tt.q.Values().Encode(), "127.0.0.1:1")
			if got := ids(decodeBody[OperatorList](t, rec)); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestListQueryValidation(t *testing.T) {
	s := newTestService(t, Config{Seed: true})
	tests := []struct {
		query, param string
	}{
		{"mcc=31", "mcc"},
		{"mcc=31a", "mcc"},
		{"mcc=310&mcc=311", "mcc"},
		{"country=USA", "country"},
		{"country=1A", "country"},
		{"iccids=123", "iccids"},
		{"iccids=" + contosoICCID + ",", "iccids"},
		{"iccids=9944476500001234567", "iccids"},
		{"eid=123", "eid"},
		{"eid=8904903200000100000000000000000X", "eid"},
		{"make=" + url.QueryEscape("a\x00b"), "make"},
		{"model=" + url.QueryEscape(string(slices.Repeat([]byte("m"), 65))), "model"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			wantError(t, serve(s.Handler(), "/v1/operators?"+tt.query, "127.0.0.1:1"), http.StatusBadRequest, CodeBadParameter, tt.param)
		})
	}
}
