package operator

import (
	"math"
	"sync"
	"time"
)

// RateLimit throttles the MO API per client (per client certificate) with
// a token bucket: Rate requests per second on average, bursts of Burst
// (at least 1). Rate 0 means DefaultRate and DefaultBurst; a negative Rate
// disables throttling.
type RateLimit struct {
	Rate  float64
	Burst int
}

// Defaults of RateLimit: well above the documented peak of 3 requests per
// second (mobile-plans.md 4.7).
const (
	DefaultRate  = 50
	DefaultBurst = 100
)

// maxBuckets bounds the limiter's memory; beyond it full buckets are
// forgotten.
const maxBuckets = 4096

type bucket struct {
	tokens float64
	last   time.Time
}

// limiter is a set of token buckets keyed by client.
type limiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

func newLimiter(rl RateLimit, now func() time.Time) *limiter {
	switch {
	case rl.Rate < 0 || math.IsNaN(rl.Rate):
		return nil
	case rl.Rate == 0:
		rl = RateLimit{Rate: DefaultRate, Burst: DefaultBurst}
	}
	burst := max(rl.Burst, 1)
	return &limiter{rate: rl.Rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// allow takes a token for key. When none is left it returns false and how
// long until one is (at least one second, for Retry-After).
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	secs := math.Ceil((1 - b.tokens) / l.rate)
	if secs > 3600 {
		secs = 3600
	}
	return false, max(time.Duration(secs)*time.Second, time.Second)
}

// prune drops buckets that have refilled completely by now.
func (l *limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}
