package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/service/discovery"
)

// waitLimit guards every wait of a test against a hang; it is never a
// timing assertion.
const waitLimit = 90 * time.Second

// fakeClock is a Clock that moves only when told.
type fakeClock struct {
	mu       sync.Mutex
	now      time.Time
	sleepers map[*sleeper]struct{}
	changed  chan struct{} // closed and replaced at every change
}

type sleeper struct {
	until time.Time
	ch    chan struct{}
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2024, 5, 18, 23, 17, 23, 0, time.UTC), sleepers: map[*sleeper]struct{}{},
		changed: make(chan struct{})}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) broadcastLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	c.mu.Lock()
	s := &sleeper{until: c.now.Add(d), ch: make(chan struct{})}
	c.sleepers[s] = struct{}{}
	c.broadcastLocked()
	c.mu.Unlock()
	select {
	case <-s.ch:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		if _, ok := c.sleepers[s]; ok {
			delete(c.sleepers, s)
			c.broadcastLocked()
		}
		c.mu.Unlock()
		return ctx.Err()
	}
}

// Advance moves the clock and wakes the sleepers whose time came.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for s := range c.sleepers {
		if !s.until.After(c.now) {
			close(s.ch)
			delete(c.sleepers, s)
		}
	}
	c.broadcastLocked()
}

// pending returns the remaining durations of the sleepers, shortest first.
func (c *fakeClock) pendingLocked() []time.Duration {
	var out []time.Duration
	for s := range c.sleepers {
		out = append(out, s.until.Sub(c.now))
	}
	slices.Sort(out)
	return out
}

// waitSleepers waits until the pending sleeps satisfy ok and returns them.
func (c *fakeClock) waitSleepers(t testing.TB, ok func([]time.Duration) bool) []time.Duration {
	t.Helper()
	limit := time.NewTimer(waitLimit)
	defer limit.Stop()
	for {
		c.mu.Lock()
		p := c.pendingLocked()
		ch := c.changed
		c.mu.Unlock()
		if ok(p) {
			return p
		}
		select {
		case <-ch:
		case <-limit.C:
			t.Fatalf("clock: sleepers %v never matched", p)
		}
	}
}

// autoAdvance moves the clock to the earliest sleeper whenever there is
// one, until ctx ends: for tests where waits do not matter.
func (c *fakeClock) autoAdvance(ctx context.Context) {
	go func() {
		for {
			c.mu.Lock()
			p := c.pendingLocked()
			ch := c.changed
			c.mu.Unlock()
			if len(p) > 0 {
				c.Advance(p[0])
				continue
			}
			select {
			case <-ch:
			case <-ctx.Done():
				return
			}
		}
	}()
}

// recorder collects an agent's events.
type recorder struct {
	mu      sync.Mutex
	events  []Event
	changed chan struct{}
	cursor  int
	done    chan struct{}
}

func record(a *Agent) *recorder {
	r := &recorder{changed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for e := range a.Events() {
			r.mu.Lock()
			r.events = append(r.events, e)
			close(r.changed)
			r.changed = make(chan struct{})
			r.mu.Unlock()
		}
	}()
	return r
}

// next waits for the next event after the cursor that matches ok.
func (r *recorder) next(t testing.TB, what string, ok func(Event) bool) Event {
	t.Helper()
	limit := time.NewTimer(waitLimit)
	defer limit.Stop()
	for {
		r.mu.Lock()
		for i := r.cursor; i < len(r.events); i++ {
			if ok(r.events[i]) {
				r.cursor = i + 1
				e := r.events[i]
				r.mu.Unlock()
				return e
			}
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-limit.C:
			t.Fatalf("no %s event; got %s", what, r.String())
		}
	}
}

// find returns the first recorded event that matches ok.
func (r *recorder) find(ok func(Event) bool) (Event, bool) {
	for _, e := range r.all() {
		if ok(e) {
			return e, true
		}
	}
	return nil, false
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) String() string {
	var b strings.Builder
	for _, e := range r.all() {
		fmt.Fprintf(&b, "\n  %T %+v", e, e)
	}
	return b.String()
}

// states returns the states the journey went to, in order.
func (r *recorder) states() []State {
	var out []State
	for _, e := range r.all() {
		if sc, ok := e.(StateChanged); ok {
			out = append(out, sc.To)
		}
	}
	return out
}

// scripts returns the page scripts of a kind, in order.
func (r *recorder) scripts(kind string) []string {
	var out []string
	for _, e := range r.all() {
		if ps, ok := e.(PortalScript); ok && ps.Kind == kind {
			out = append(out, ps.JS)
		}
	}
	return out
}

func isState(s State) func(Event) bool {
	return func(e Event) bool {
		sc, ok := e.(StateChanged)
		return ok && sc.To == s
	}
}

// fakeDiscovery is the discovery service as the agent sees it.
type fakeDiscovery struct {
	mu      sync.Mutex
	ops     []*discovery.OperatorDetail
	apns    map[string]discovery.APN
	country string
	queries []discovery.Query
	err     error
}

func (f *fakeDiscovery) find(id string) (*discovery.OperatorDetail, error) {
	for _, o := range f.ops {
		if o.ID == id {
			c := *o
			return &c, nil
		}
	}
	return nil, &discovery.APIError{Status: 404, Code: discovery.CodeOperatorNotFound, Message: "no operator " + id}
}

func (f *fakeDiscovery) Operators(_ context.Context, q discovery.Query) (*discovery.OperatorList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	if f.err != nil {
		return nil, f.err
	}
	src := "ip"
	if q.MCC != "" {
		src = "mcc"
	}
	l := &discovery.OperatorList{Country: f.country, CountrySource: src}
	for _, o := range f.ops {
		s := discovery.OperatorSummary{ID: o.ID, Brand: o.Brand, PortalURL: o.PortalURL, CallbackHost: o.CallbackHost, Countries: o.Countries}
		for _, iccid := range q.ICCIDs {
			for _, r := range o.ICCIDRanges {
				if r.Contains(iccid) {
					s.Owned = true
					s.OwnedICCIDs = append(s.OwnedICCIDs, iccid)
				}
			}
		}
		l.Operators = append(l.Operators, s)
	}
	return l, nil
}

func (f *fakeDiscovery) Operator(_ context.Context, id string) (*discovery.OperatorDetail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.find(id)
}

func (f *fakeDiscovery) Gateway(_ context.Context, id, iccid, imei string) (*discovery.GatewaySelection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.find(id); err != nil {
		return nil, err
	}
	return &discovery.GatewaySelection{OperatorID: id, Source: discovery.TemplateFromDefault, FallbackReason: "iccid=" + iccid}, nil
}

func (f *fakeDiscovery) APN(_ context.Context, id, mccmnc, iccid string) (*discovery.APNResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	apn, ok := f.apns[id]
	if !ok {
		return nil, &discovery.APIError{Status: 404, Code: discovery.CodeAPNNotFound, Message: "no APN"}
	}
	return &discovery.APNResult{OperatorID: id, APN: apn}, nil
}

func (f *fakeDiscovery) Balance(_ context.Context, iccid, location string) (*discovery.Balance, error) {
	return &discovery.Balance{ICCID: iccid, OperatorID: "contoso", Type: discovery.BalanceMODirectPAYG}, nil
}

// fakeNotifier records the desktop notifications.
type fakeNotifier struct {
	mu    sync.Mutex
	shown []Notification
}

func (f *fakeNotifier) Notify(_ context.Context, n Notification) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shown = append(f.shown, n)
	return nil
}

func (f *fakeNotifier) all() []Notification {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.shown)
}
