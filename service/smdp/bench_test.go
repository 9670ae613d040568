package smdp

import (
	"context"
	"sync/atomic"
	"testing"
)

// BenchmarkDownload measures complete downloads (initiateAuthentication to
// the installation result) per second, with concurrent in-process eUICCs
// over TLS. Orders are placed before the timer starts.
func BenchmarkDownload(b *testing.B) {
	e := newEnv(b, func(c *Config) { c.InventorySize = b.N })
	ctx := context.Background()
	mids := make([]string, b.N)
	for i := range mids {
		_, mids[i] = e.order(ctx, "", "", "")
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := e.newCard()
		for pb.Next() {
			i := next.Add(1) - 1
			out, err := e.download(ctx, c, mids[i], "")
			if err == nil {
				err = out.Result.Err()
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
}
