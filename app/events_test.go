package app

import (
	"errors"
	"reflect"
	"testing"

	"github.com/mobileplans/mobileplans/ui/portal"
)

func TestEventQueue(t *testing.T) {
	sc := func(to State) Event { return StateChanged{To: to} }
	pr := func(done int) Event { return Progress{Stage: StageInstalling, Done: done, Total: 9} }
	ps := PortalScript{Kind: ScriptActivation, JS: "f();"}
	note := Notification{Kind: NotifyDeferredDownloadDue, DeferredID: "mp-1"}
	errEv := ErrorEvent{Result: portal.ActivationOther, Err: errors.New("x")}
	tests := []struct {
		name    string
		limit   int
		push    []Event
		want    []Event
		dropped uint64
	}{
		{name: "in order", limit: 10, push: []Event{sc(StateProbe), ps, note}, want: []Event{sc(StateProbe), ps, note}},
		{name: "progress coalesced with the progress waiting before it", limit: 10,
			push:    []Event{sc(StateDownload), pr(1), pr(2), ps, pr(3), pr(4), pr(5)},
			want:    []Event{sc(StateDownload), pr(2), ps, pr(5)},
			dropped: 3},
		{name: "full: the oldest progress goes first", limit: 3,
			push:    []Event{sc(StateInstall), pr(1), note, ps},
			want:    []Event{sc(StateInstall), note, ps},
			dropped: 1},
		{name: "full: then the oldest event that is not a state change", limit: 3,
			push:    []Event{note, sc(StateDownload), ps, sc(StateInstall)},
			want:    []Event{sc(StateDownload), ps, sc(StateInstall)},
			dropped: 1},
		{name: "state changes are never dropped", limit: 2,
			push:    []Event{sc(StateDownload), sc(StateInstall), sc(StateEnable), errEv, sc(StateFailed)},
			want:    []Event{sc(StateDownload), sc(StateInstall), sc(StateEnable), sc(StateFailed)},
			dropped: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newEventQueue(tt.limit)
			for _, e := range tt.push {
				q.push(e)
			}
			if q.droppedCount() != tt.dropped {
				t.Fatalf("dropped %d, want %d", q.droppedCount(), tt.dropped)
			}
			q.start()
			var got []Event
			for range tt.want {
				got = append(got, <-q.out)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("delivered %+v\nwant %+v", got, tt.want)
			}
			q.close()
			if _, open := <-q.out; open {
				t.Fatal("channel open after close")
			}
			q.push(note) // after close: ignored
			q.close()
		})
	}
}
