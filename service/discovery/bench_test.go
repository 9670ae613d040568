package discovery

import (
	"context"
	"fmt"
	"image/color"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchService is a seeded catalog plus 300 operators over 30 countries,
// ten of them in the US.
func benchService(b *testing.B) *Service {
	s := newTestService(b, Config{Seed: true})
	ctx := context.Background()
	for i := range 300 {
		country := fmt.Sprintf("%c%c", 'A'+i%30/26, 'A'+i%30%26)
		if i%30 == 0 {
			country = "US"
		}
		op := filterOperator(fmt.Sprintf("op-%03d", i), fmt.Sprintf("Operator %03d", 300-i))
		op.Countries = []string{country}
		op.ICCIDRanges = []ICCIDRange{{Prefix: fmt.Sprintf("8999%03d", i)}}
		op.Logo = makeLogo(color.RGBA{uint8(i), 0x40, 0x80, 0xFF}, color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}, logoShape(i%3))
		if i%7 == 0 {
			op.DeviceDeny = []DeviceFilter{{Make: "Fabrikam", Model: "Laptop 1"}}
		}
		if err := s.UpsertOperator(ctx, op); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkOperatorsLookup measures GET /v1/operators through the handler
// (no network): the requests per second one process can answer.
func BenchmarkOperatorsLookup(b *testing.B) {
	s := benchService(b)
	h := s.Handler()
	target := "/v1/operators?" + Query{MCC: "310", ICCIDs: []string{contosoICCID, smdpICCID}, EID: "89049032000001000000000000000001",
		Make: "Contoso PCs", Model: "X1"}.Values().Encode()
	if rec := serve(h, target, "127.0.0.1:1"); rec.Code != http.StatusOK {
		b.Fatalf("status %d", rec.Code)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if rec := serve(h, target, "127.0.0.1:1"); rec.Code != http.StatusOK {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkOperatorsLookupHTTP measures the same lookup with the Client
// over loopback HTTP.
func BenchmarkOperatorsLookupHTTP(b *testing.B) {
	s := benchService(b)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer hc.CloseIdleConnections()
	c := NewClient(srv.URL, hc)
	q := Query{Country: "US", ICCIDs: []string{contosoICCID}}
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Operators(ctx, q); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkBalanceProxy measures GET /v1/balance with the MO API behind
// mutual TLS (kept-alive connections), through the handler.
func BenchmarkBalanceProxy(b *testing.B) {
	p := newTestPKI(b)
	mo := startMockMO(b, p.ca, nil)
	mo.set(jsonAnswer(200, `{"balances":[{"type":"MODIRECTPAYG","dataRemainingInMB":10,"timeRemaining":"P1D"}]}`))
	s := newTestService(b, Config{Seed: true, MOClientTLS: p.clientTLS(), Overrides: contosoAt(mo)})
	h := s.Handler()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if rec := serve(h, "/v1/balance?iccid="+contosoICCID+"&location=US", "127.0.0.1:1"); rec.Code != http.StatusOK {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
