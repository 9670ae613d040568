package operator

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkGetBalance measures GetBalance over mutual TLS (kept-alive
// connections, parallel clients) and reports the p50 and p99 latency.
func BenchmarkGetBalance(b *testing.B) {
	const sims = 1000
	lines := make([]SeedLine, sims)
	for i := range lines {
		lines[i] = SeedLine{ICCID: fmt.Sprintf("894447650000%07d", i), PlanID: []string{"prepaid-5gb", "unlimited", "travel-1gb"}[i%3]}
	}
	e := newMOEnv(b, func(c *Config) { c.SeedLines = lines })
	var (
		mu   sync.Mutex
		lats []time.Duration
		seq  atomic.Int64
	)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			n := seq.Add(1)
			req, err := http.NewRequest(http.MethodGet, e.srv.URL+balancesPath(lines[n%sims].ICCID,
				"?fieldsTemplate=basic&limit=1&location=US"), nil)
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set(TransactionHeader, fmt.Sprintf("MSFT-bench-%d", n))
			t0 := time.Now()
			resp, err := e.client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			local = append(local, time.Since(t0))
			if resp.StatusCode != http.StatusOK {
				b.Errorf("HTTP %d", resp.StatusCode)
				return
			}
		}
		mu.Lock()
		lats = append(lats, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lats) == 0 {
		return
	}
	slices.Sort(lats)
	pct := func(p float64) float64 { return float64(lats[int(p*float64(len(lats)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(lats))/elapsed.Seconds(), "req/s")
}
