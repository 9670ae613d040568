package discovery

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

func TestStorePersistsOperators(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	s, err := New(ctx, Config{DBPath: path, Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	// Every field survives the store.
	full := SeedOperators()[0]
	full.ID, full.Brand = "full", "Full Example"
	full.EIDAllow, full.EIDDeny = []string{"89049032", "8903"}, []string{"8904903200009"}
	full.DeviceAllow = []DeviceFilter{{Make: "Contoso PCs"}, {Make: "Microsoft Corporation", Model: "Surface Pro"}}
	full.DeviceDeny = []DeviceFilter{{Make: "Fabrikam", Model: "Laptop 1"}}
	full.LogoURL = "https://cdn.example/full.png"
	full.ICCIDRanges = append(full.ICCIDRanges, ICCIDRange{From: "8944100", To: "8944199"})
	if err := s.UpsertOperator(ctx, full); err != nil {
		t.Fatal(err)
	}
	want, err := full.normalized()
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Operator(ctx, "full")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stored operator differs:\n got %+v\nwant %+v", got, want)
	}
	// Editing a seeded operator, then restarting with Seed: the edit stays.
	fab, err := s.Operator(ctx, FabrikamID)
	if err != nil {
		t.Fatal(err)
	}
	fab.Brand = "Fabrikam Mobile UK"
	fab.APNs = nil
	if err := s.UpsertOperator(ctx, fab); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOperator(ctx, NorthwindID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteOperator(ctx, NorthwindID); !errors.Is(err, ErrOperatorNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := New(ctx, Config{DBPath: path, Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ops, err := s2.Operators(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var idsGot []string
	for _, o := range ops {
		idsGot = append(idsGot, o.ID)
	}
	// Northwind was deleted but is seeded again (it is missing); ordered by id.
	if !slices.Equal(idsGot, []string{ContosoID, FabrikamID, "full", NorthwindID}) {
		t.Errorf("operators %v", idsGot)
	}
	fab2, err := s2.Operator(ctx, FabrikamID)
	if err != nil {
		t.Fatal(err)
	}
	if fab2.Brand != "Fabrikam Mobile UK" || fab2.APNs != nil {
		t.Errorf("edit lost: %+v", fab2)
	}
	if v, err := s2.store.schemaVersion(ctx); err != nil || v != len(migrations()) {
		t.Errorf("schema version %d, %v", v, err)
	}
}

func TestStoreRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	st, err := openStore(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.db.ExecContext(ctx, `PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	st.close()
	if _, err := openStore(ctx, path); err == nil {
		t.Fatal("opened a database from the future")
	}
}

func TestOverrides(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	s := newTestService(t, Config{DBPath: path, Seed: true, Overrides: map[string]Override{
		ContosoID: {
			PortalURL: "https://127.0.0.1:8444/portal", CallbackHost: "127.0.0.1",
			MOBaseURL: "https://127.0.0.1:8444/mo/v1", OffersURI: "https://127.0.0.1:8444/mo/v1/",
			ICCIDRanges: []ICCIDRange{{Prefix: "8900199"}},
		},
	}})
	c, err := s.Operator(ctx, ContosoID)
	if err != nil {
		t.Fatal(err)
	}
	if c.PortalURL != "https://127.0.0.1:8444/portal" || c.CallbackHost != "127.0.0.1" || c.MOBaseURL != "https://127.0.0.1:8444/mo/v1" ||
		!reflect.DeepEqual(c.ICCIDRanges, []ICCIDRange{{Prefix: "8900199"}}) || c.Brand != "Contoso Cellular" {
		t.Errorf("override not applied: %+v", c)
	}
	t.Run("callback host from the portal URL", func(t *testing.T) {
		s := newTestService(t, Config{Seed: true, Overrides: map[string]Override{FabrikamID: {PortalURL: "https://Localhost:9443/fabrikam"}}})
		f, err := s.Operator(ctx, FabrikamID)
		if err != nil {
			t.Fatal(err)
		}
		if f.PortalURL != "https://Localhost:9443/fabrikam" || f.CallbackHost != "localhost" {
			t.Errorf("got %q %q", f.PortalURL, f.CallbackHost)
		}
	})
	list := decodeBody[OperatorList](t, serve(s.Handler(), "/v1/operators?mcc=001", "127.0.0.1:1"))
	if len(list.Operators) != 1 || list.Operators[0].PortalURL != "https://127.0.0.1:8444/portal" {
		t.Errorf("list %+v", list)
	}

	tests := []struct {
		name string
		ov   map[string]Override
	}{
		{"unknown operator", map[string]Override{"nobody": {PortalURL: "https://x.example/"}}},
		{"invalid value", map[string]Override{ContosoID: {PortalURL: "http://x.example/"}}},
		{"invalid callback host", map[string]Override{ContosoID: {CallbackHost: "x.example:443"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(ctx, Config{DBPath: filepath.Join(t.TempDir(), "c.db"), Seed: true, Overrides: tt.ov})
			if err == nil {
				s.Close()
				t.Fatal("accepted")
			}
		})
	}
}

func TestConfigRefused(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"default country", Config{DefaultCountry: "USA"}},
		{"MCC table", Config{MCCCountries: map[string]string{"31": "US"}}},
		{"MCC country", Config{MCCCountries: map[string]string{"310": "U1"}}},
		{"IP table", Config{IPCountries: []IPCountry{{Country: "US"}}}},
		{"public base URL", Config{PublicBaseURL: "ftp://x.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(context.Background(), tt.cfg)
			if err == nil {
				s.Close()
				t.Fatal("accepted")
			}
		})
	}
}

func TestTemporaryDatabaseRemoved(t *testing.T) {
	s, err := New(context.Background(), Config{Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := s.tmpDir
	if _, err := os.Stat(filepath.Join(dir, "catalog.db")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary directory left: %v", err)
	}
}

func TestUpsertRefusesInvalid(t *testing.T) {
	s := newTestService(t, Config{})
	op := filterOperator("x", "X")
	op.Countries = []string{"XYZ"}
	err := s.UpsertOperator(context.Background(), op)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "countries" {
		t.Fatalf("error %v", err)
	}
	ops, err := s.Operators(context.Background())
	if err != nil || len(ops) != 0 {
		t.Errorf("stored %v, %v", ops, err)
	}
}
