package app

import (
	"sync"
	"time"

	"github.com/mobileplans/mobileplans/ui/portal"
)

// Event is something the agent reports: StateChanged, Progress,
// PortalScript, RegistrationAttempt, Notification or ErrorEvent.
type Event interface {
	isEvent()
}

// StateChanged: the journey moved. Never dropped.
type StateChanged struct {
	From, To State
	Time     time.Time
}

// Stage is the part of a download a Progress reports on.
type Stage string

// Download stages.
const (
	StageAuthenticating Stage = "authenticating"
	StageDownloading    Stage = "downloading"
	StageInstalling     Stage = "installing"
	StageInstalled      Stage = "installed"
)

// Progress reports download progress. During StageInstalling, Done of
// Total bound profile package segments are on the eUICC; otherwise Total
// is 0 or 1. Progress events may be coalesced.
type Progress struct {
	Stage       Stage
	Done, Total int
	Message     string
	// Attempt is the download attempt, from 1.
	Attempt int
}

// Script kinds of PortalScript.
const (
	ScriptRegistration = "registrationChanged"
	ScriptActivation   = "profileActivationComplete"
)

// PortalScript is JavaScript for the portal page of the current session:
// a call of the page's registrationChangedScript or
// profileActivationCompleteScript function. The UI runs JS in the page's
// main frame, and only while the page is on the session's callback host.
type PortalScript struct {
	// Kind is ScriptRegistration or ScriptActivation.
	Kind string
	JS   string
	// TransactionID identifies the portal session the script is for.
	TransactionID string
}

// RegistrationAttempt reports one read of the network registration while
// the agent waits for the profile ICCID to register.
type RegistrationAttempt struct {
	ICCID   string
	State   portal.RegistrationState
	Attempt int
	// Next is when the next attempt is due; zero after the last one.
	Next time.Time
}

// NotificationKind says what a Notification is about.
type NotificationKind string

// Notification kinds.
const (
	// NotifyDeferredDownloadDue: a deferred download can be started
	// (RunDeferred with DeferredID).
	NotifyDeferredDownloadDue NotificationKind = "deferredDownloadDue"
)

// Notification is a desktop notification (toast) to show.
type Notification struct {
	Kind       NotificationKind
	Title      string
	Body       string
	DeferredID string
	OperatorID string
}

// ErrorEvent reports a failure of a journey step.
type ErrorEvent struct {
	// State is the state the failure happened in.
	State State
	// Result is what the page was told through
	// profileActivationCompleteScript, 0 when the page was not told (the
	// failure came after activation, or outside a portal session).
	Result portal.ActivationResult
	// Status is the ESimOperationStatus name of the failure.
	Status OperationStatus
	Err    error
}

func (StateChanged) isEvent()        {}
func (Progress) isEvent()            {}
func (PortalScript) isEvent()        {}
func (RegistrationAttempt) isEvent() {}
func (Notification) isEvent()        {}
func (ErrorEvent) isEvent()          {}

// eventQueue delivers events in order without ever blocking the sender;
// see the package documentation for the drop rules.
type eventQueue struct {
	mu      sync.Mutex
	pending []Event
	limit   int
	dropped uint64
	closed  bool

	wake chan struct{} // capacity 1
	out  chan Event
	stop chan struct{}
	done chan struct{}
}

// newEventQueue returns a queue; start begins the delivery.
func newEventQueue(limit int) *eventQueue {
	return &eventQueue{limit: limit, wake: make(chan struct{}, 1), out: make(chan Event),
		stop: make(chan struct{}), done: make(chan struct{})}
}

func (q *eventQueue) start() { go q.pump() }

// push queues e; it never blocks.
func (q *eventQueue) push(e Event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	if _, ok := e.(Progress); ok && len(q.pending) > 0 {
		if _, last := q.pending[len(q.pending)-1].(Progress); last {
			q.pending[len(q.pending)-1] = e
			q.dropped++
			q.signal()
			return
		}
	}
	if len(q.pending) >= q.limit && !q.dropOneLocked() {
		if _, ok := e.(StateChanged); !ok {
			q.dropped++ // only state changes queued: e itself goes
			return
		}
	}
	q.pending = append(q.pending, e)
	q.signal()
}

// dropOneLocked drops the oldest Progress, else the oldest event that is
// not a StateChanged; with only state changes queued it drops nothing and
// returns false.
func (q *eventQueue) dropOneLocked() bool {
	victim := -1
	for i, e := range q.pending {
		if _, ok := e.(Progress); ok {
			victim = i
			break
		}
	}
	if victim < 0 {
		for i, e := range q.pending {
			if _, ok := e.(StateChanged); !ok {
				victim = i
				break
			}
		}
	}
	if victim < 0 {
		return false
	}
	q.pending = append(q.pending[:victim], q.pending[victim+1:]...)
	q.dropped++
	return true
}

func (q *eventQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *eventQueue) pump() {
	defer close(q.done)
	defer close(q.out)
	for {
		q.mu.Lock()
		var e Event
		if len(q.pending) > 0 {
			e = q.pending[0]
			q.pending[0] = nil
			q.pending = q.pending[1:]
		}
		q.mu.Unlock()
		if e == nil {
			select {
			case <-q.wake:
				continue
			case <-q.stop:
				return
			}
		}
		select {
		case q.out <- e:
		case <-q.stop:
			return
		}
	}
}

// droppedCount returns the number of events dropped or coalesced so far.
func (q *eventQueue) droppedCount() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}

// close stops delivery and closes the channel; queued events are
// discarded.
func (q *eventQueue) close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	q.pending = nil
	q.mu.Unlock()
	close(q.stop)
	<-q.done
}
