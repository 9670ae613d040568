package discovery

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestAPNLookup(t *testing.T) {
	s := newTestService(t, Config{Seed: true})
	tests := []struct {
		name, id, query string
		wantName        string
		wantMatched     []string
		status          int
		param           string
	}{
		{"no identifiers: unrestricted APN", ContosoID, "", "internet.contoso", []string{}, 200, ""},
		{"test network", ContosoID, "mccmnc=00101", "test.contoso", []string{"mccmnc"}, 200, ""},
		{"most identifiers win", ContosoID, "mccmnc=00101&iccid=" + smdpICCID, "prepaid.contoso", []string{"mccmnc", "iccid"}, 200, ""},
		{"ICCID alone does not satisfy an MCC/MNC restriction", ContosoID, "iccid=" + smdpICCID, "internet.contoso", []string{}, 200, ""},
		{"other network", ContosoID, "mccmnc=310999&iccid=" + contosoICCID, "internet.contoso", []string{}, 200, ""},
		{"trailing F", ContosoID, "mccmnc=00101&iccid=" + smdpICCID + "F", "prepaid.contoso", []string{"mccmnc", "iccid"}, 200, ""},
		{"CHAP with credentials", FabrikamID, "mccmnc=23599", "mobile.fabrikam", []string{"mccmnc"}, 200, ""},
		{"no APN for the network", FabrikamID, "mccmnc=26299", "", nil, 404, ""},
		{"no APN without the network", NorthwindID, "", "", nil, 404, ""},
		{"bad mccmnc", ContosoID, "mccmnc=0010", "", nil, 400, "mccmnc"},
		{"bad iccid", ContosoID, "iccid=89", "", nil, 400, "iccid"},
		{"bad id", "Contoso", "", "", nil, 400, "id"},
		{"unknown operator", "nobody", "", "", nil, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(s.Handler(), "/v1/operators/"+tt.id+"/apn?"+tt.query, "")
			switch tt.status {
			case 200:
				if rec.Code != 200 {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				r := decodeBody[APNResult](t, rec)
				if r.OperatorID != tt.id || r.APN.Name != tt.wantName || !slices.Equal(r.Matched, tt.wantMatched) {
					t.Errorf("got %+v", r)
				}
			case 404:
				code := CodeAPNNotFound
				if tt.id == "nobody" {
					code = CodeOperatorNotFound
				}
				wantError(t, rec, 404, code, "")
			default:
				wantError(t, rec, tt.status, CodeBadParameter, tt.param)
			}
		})
	}
	t.Run("settings are complete", func(t *testing.T) {
		r := decodeBody[APNResult](t, serve(s.Handler(), "/v1/operators/fabrikam/apn?mccmnc=23499", ""))
		want := APN{Name: "mobile.fabrikam", AuthType: AuthCHAP, Username: "fabrikam", Password: "web", IPType: IPv4,
			RoamingAllowed: false, MCCMNCs: []string{"23499", "23599"}}
		if !reflect.DeepEqual(r.APN, want) {
			t.Errorf("got %+v", r.APN)
		}
	})
}

func TestOperatorDetailAndLogo(t *testing.T) {
	s := newTestService(t, Config{Seed: true})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	rec := serve(s.Handler(), "/v1/operators/contoso", "")
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	// The JSON shape the app relies on.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "brand", "logoUrl", "portalUrl", "callbackHost", "countries", "iccidRanges", "gateway", "supportsBalance", "supportsOffers"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("detail lacks %q: %s", k, rec.Body)
		}
	}
	for _, k := range []string{"moBaseUrl", "offersUri", "apns", "logo"} {
		if _, ok := raw[k]; ok {
			t.Errorf("detail exposes %q", k)
		}
	}
	d := decodeBody[OperatorDetail](t, rec)
	if d.Brand != "Contoso Cellular" || d.CallbackHost != "portal.contoso.test" || !d.SupportsBalance || !d.SupportsOffers ||
		d.Gateway == nil || len(d.Gateway.PromotionTemplates) != 2 || !strings.Contains(rec.Body.String(), `"buttonColor":"0x00B0F0FF"`) {
		t.Errorf("detail %s", rec.Body)
	}
	if !strings.HasPrefix(d.LogoURL, "http://example.com/v1/operators/contoso/logo?v=") {
		t.Errorf("logo URL %q", d.LogoURL)
	}

	// Every seeded logo is a distinct opaque 300x300 PNG.
	var logos [][]byte
	for _, id := range []string{ContosoID, FabrikamID, NorthwindID} {
		resp, err := http.Get(srv.URL + "/v1/operators/" + id + "/logo")
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("%s: %d %s", id, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		raw := bytes.Clone(b.Bytes())
		img, err := png.Decode(&b)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if r := img.Bounds(); r.Dx() != 300 || r.Dy() != 300 {
			t.Errorf("%s: %v", id, r)
		}
		if _, _, _, a := img.At(0, 0).RGBA(); a != 0xFFFF {
			t.Errorf("%s: transparent corner", id)
		}
		for _, other := range logos {
			if bytes.Equal(other, raw) {
				t.Errorf("%s: same logo as another operator", id)
			}
		}
		logos = append(logos, raw)

		// Conditional request.
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/operators/"+id+"/logo", nil)
		req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		resp2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp2.Body.Close()
		if resp2.StatusCode != http.StatusNotModified {
			t.Errorf("%s: conditional GET gave %d", id, resp2.StatusCode)
		}
	}

	t.Run("external logo URL", func(t *testing.T) {
		op := filterOperator("ext", "Ext")
		op.LogoURL = "https://cdn.example/ext.png"
		if err := s.UpsertOperator(context.Background(), op); err != nil {
			t.Fatal(err)
		}
		d := decodeBody[OperatorDetail](t, serve(s.Handler(), "/v1/operators/ext", ""))
		if d.LogoURL != op.LogoURL || d.Gateway != nil || d.SupportsBalance {
			t.Errorf("got %+v", d)
		}
		wantError(t, serve(s.Handler(), "/v1/operators/ext/logo", ""), 404, CodeLogoNotFound, "")
	})
	t.Run("public base URL", func(t *testing.T) {
		p := newTestService(t, Config{Seed: true, PublicBaseURL: "https://mps.example:8443/"})
		d := decodeBody[OperatorDetail](t, serve(p.Handler(), "/v1/operators/fabrikam", ""))
		if !strings.HasPrefix(d.LogoURL, "https://mps.example:8443/v1/operators/fabrikam/logo?v=") {
			t.Errorf("logo URL %q", d.LogoURL)
		}
	})
}

func TestRoutingErrors(t *testing.T) {
	s := newTestService(t, Config{Seed: true})
	tests := []struct {
		method, target string
		status         int
		code           string
	}{
		{http.MethodGet, "/v2/operators", 404, CodeNotFound},
		{http.MethodGet, "/v1/operators/contoso/extra", 404, CodeNotFound},
		{http.MethodPost, "/v1/operators", 405, CodeMethodNotAllowed},
		{http.MethodDelete, "/v1/operators/contoso", 405, CodeMethodNotAllowed},
		{http.MethodPut, "/v1/balance", 405, CodeMethodNotAllowed},
		{http.MethodGet, "/v1/operators/nobody", 404, CodeOperatorNotFound},
		{http.MethodGet, "/v1/operators/" + strings.Repeat("a", 65), 400, CodeBadParameter},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.target, nil)
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			wantError(t, rec, tt.status, tt.code, "")
			if tt.status == 405 && rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q", rec.Header().Get("Allow"))
			}
		})
	}
	t.Run("HEAD", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodHead, "/v1/operators?country=US", nil)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Errorf("status %d", rec.Code)
		}
	})
	t.Run("health", func(t *testing.T) {
		if rec := serve(s.Handler(), "/healthz", ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"ok"`) {
			t.Errorf("%d %s", rec.Code, rec.Body)
		}
	})
}
