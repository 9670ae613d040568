package lpa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/esim/es9"
	"github.com/mobileplans/mobileplans/esim/euicc"
	"github.com/mobileplans/mobileplans/esim/pki"
	"github.com/mobileplans/mobileplans/esim/rsp"
)

// errModemGone is what the link returns while it is offline: not a card
// reset, the card keeps its state.
var errModemGone = errors.New("test link: modem unreachable")

// errAnswerLost is returned by the link for a command the card executed
// but whose answer did not come back.
var errAnswerLost = errors.New("test link: answer lost")

// link is the path from the LPA to the simulated eUICC; it can be taken
// offline without resetting the card, or lose the answer to the next
// completed ES10 command.
type link struct {
	open       apdu.Opener
	offline    atomic.Bool
	loseAnswer atomic.Bool
}

type linkChannel struct {
	apdu.Channel
	l *link
}

func (c linkChannel) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if c.l.offline.Load() {
		return nil, errModemGone
	}
	r, err := c.Channel.Transmit(ctx, cmd)
	// The last STORE DATA block of a request (P1 91): the card has run it.
	if err == nil && len(cmd) > 2 && cmd[1] == 0xE2 && cmd[2] == 0x91 && c.l.loseAnswer.CompareAndSwap(true, false) {
		return nil, errAnswerLost
	}
	return r, err
}

func (l *link) opener(ctx context.Context, aid []byte) (apdu.Channel, error) {
	if l.offline.Load() {
		return nil, errModemGone
	}
	ch, err := l.open(ctx, aid)
	if err != nil {
		return nil, err
	}
	return linkChannel{Channel: ch, l: l}, nil
}

// dlTest is a simulated eUICC attached to a test PKI, an LPA client on it
// and a fake SM-DP+.
type dlTest struct {
	t    testing.TB
	ctx  context.Context
	p    *pki.PKI
	smdp *fakeSMDP
	card *euicc.Card
	link *link
	lpa  *Client
	es9  *ES9Client
}

type dlTestOptions struct {
	blockSize int
	forceGR   bool
}

func newDLTest(t testing.TB, o dlTestOptions) *dlTest {
	t.Helper()
	p := newTestPKI(t)
	card, err := euicc.Open(filepath.Join(t.TempDir(), "euicc.json"), euicc.Options{
		Issuer: euicc.PKIIssuer(p), ForceGetResponse: o.forceGR,
	})
	if err != nil {
		t.Fatal(err)
	}
	var opens atomic.Int32
	l := &link{open: cardOpener(card, false, &opens)}
	c, err := New(context.Background(), l.opener, Options{BlockSize: o.blockSize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &dlTest{t: t, ctx: context.Background(), p: p, smdp: newFakeSMDP(t, p), card: card, link: l, lpa: c,
		es9: newTestES9(t, p, 0)}
}

func (d *dlTest) ac() ActivationCode {
	return ActivationCode{SMDPAddress: d.smdp.addr, MatchingID: "ORDER-1"}
}

// profiles returns the ICCIDs on the card.
func (d *dlTest) profiles() []rsp.ICCID {
	d.t.Helper()
	ps, err := d.lpa.Profiles(d.ctx)
	if err != nil {
		d.t.Fatal(err)
	}
	var out []rsp.ICCID
	for _, p := range ps {
		out = append(out, p.ICCID)
	}
	return out
}

// notifications returns the pending notifications on the card.
func (d *dlTest) notifications() []rsp.NotificationMetadata {
	d.t.Helper()
	ns, err := d.lpa.Notifications(d.ctx)
	if err != nil {
		d.t.Fatal(err)
	}
	return ns
}

// noSession fails the test if the card still has a download session for
// txid.
func (d *dlTest) noSession(txid []byte) {
	d.t.Helper()
	_, _, err := d.lpa.CancelSession(d.ctx, txid, rsp.CancelUndefinedReason)
	var re *rsp.ResultError
	if !errors.As(err, &re) || re.Code != int(rsp.CancelSessionInvalidTransactionID) {
		d.t.Fatalf("CancelSession(%X) = %v: the eUICC still has the session", txid, err)
	}
}

// downloadOK runs a plain download that must succeed.
func (d *dlTest) downloadOK(opts DownloadOptions) *DownloadResult {
	d.t.Helper()
	res, err := d.lpa.Download(d.ctx, d.es9, d.ac(), opts)
	if err != nil {
		d.t.Fatalf("Download: %v", err)
	}
	return res
}

func TestDownload(t *testing.T) {
	tests := []struct {
		name string
		o    dlTestOptions
		info rsp.DeviceInfo
	}{
		{name: "255-byte blocks"},
		{name: "120-byte blocks, T=0 GET RESPONSE, IMEI", o: dlTestOptions{blockSize: 120, forceGR: true},
			info: rsp.DeviceInfo{TAC: [4]byte{0x35, 0x32, 0x45, 0x67}, IMEI: "353245678901234"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDLTest(t, tc.o)
			var events []Progress
			var confirmed []rsp.StoreMetadataRequest
			res := d.downloadOK(DownloadOptions{
				DeviceInfo: tc.info,
				Progress:   func(p Progress) { events = append(events, p) },
				Confirm: func(_ context.Context, md rsp.StoreMetadataRequest) error {
					confirmed = append(confirmed, md)
					return nil
				},
			})
			want := testICCIDN(1)
			if res.ICCID != want || res.Metadata.ICCID != want || res.Metadata.ServiceProviderName != "Contoso Cellular" {
				t.Errorf("result %+v", res)
			}
			if len(confirmed) != 1 || confirmed[0].ICCID != want {
				t.Errorf("Confirm saw %+v", confirmed)
			}
			if len(res.ISDPAID) == 0 || len(res.TransactionID) == 0 || res.FromCache {
				t.Errorf("result %+v", res)
			}
			if !res.NotificationDelivered || res.NotificationErr != nil {
				t.Errorf("notification not delivered: %v", res.NotificationErr)
			}
			if res.Segments < 5 || res.BPPBytes < 4<<10 || res.APDUs < int64(res.Segments) || res.BytesOut < int64(res.BPPBytes) {
				t.Errorf("stats %+v", res)
			}
			// The profile is on the card, disabled; its install
			// notification was delivered and removed.
			p, err := d.lpa.Profile(d.ctx, want)
			if err != nil || p.State != 0 || p.ProfileName != res.Metadata.ProfileName {
				t.Fatalf("Profile: %+v %v", p, err)
			}
			if ns := d.notifications(); len(ns) != 0 {
				t.Errorf("pending notifications left: %+v", ns)
			}
			ns := d.smdp.notificationList()
			if len(ns) != 1 || ns[0].install == nil || ns[0].install.Err() != nil ||
				!bytes.Equal(ns[0].install.Data.TransactionID, res.TransactionID) {
				t.Fatalf("server notifications %+v", ns)
			}
			wantCalls := []string{"initiateAuthentication", "authenticateClient", "getBoundProfilePackage", "handleNotification"}
			if got := d.smdp.callList(); !slices.Equal(got, wantCalls) {
				t.Errorf("server calls %v, want %v", got, wantCalls)
			}
			checkProgress(t, events, res.Segments)
		})
	}
}

// checkProgress checks the order of the progress events and the segment
// count while installing.
func checkProgress(t *testing.T, events []Progress, segments int) {
	t.Helper()
	last := Stage(0)
	installing := 0
	for _, e := range events {
		if e.Stage < last {
			t.Fatalf("stage went back from %s to %s: %+v", last, e.Stage, events)
		}
		last = e.Stage
		if e.Stage == StageInstalling {
			if e.Total != segments || e.Done != installing {
				t.Fatalf("installing event %+v, want %d/%d", e, installing, segments)
			}
			if e.Message != fmt.Sprintf("installing %d/%d", e.Done, e.Total) {
				t.Errorf("message %q", e.Message)
			}
			installing++
		}
	}
	if installing != segments+1 {
		t.Errorf("%d installing events for %d segments", installing, segments)
	}
	if last != StageDone {
		t.Errorf("last stage %s", last)
	}
	seen := map[Stage]bool{}
	for _, e := range events {
		seen[e.Stage] = true
	}
	for s := StageAuthenticating; s <= StageDone; s++ {
		if !seen[s] {
			t.Errorf("no %s event", s)
		}
	}
}

func TestDownloadDefaultAddress(t *testing.T) {
	d := newDLTest(t, dlTestOptions{})
	ac := ActivationCode{MatchingID: "ORDER-1"}
	_, err := d.lpa.Download(d.ctx, d.es9, ac, DownloadOptions{})
	var de *DownloadError
	if !errors.As(err, &de) || de.Step != StepAddress || !errors.Is(err, ErrNoSMDPAddress) {
		t.Fatalf("without a default address: %v", err)
	}
	if err := d.lpa.SetDefaultDPAddress(d.ctx, d.smdp.addr); err != nil {
		t.Fatal(err)
	}
	res, err := d.lpa.Download(d.ctx, d.es9, ac, DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.ICCID != testICCIDN(1) {
		t.Errorf("ICCID %s", res.ICCID)
	}
}

func TestDownloadConfirmationCode(t *testing.T) {
	t.Run("AC requires a code, none given", func(t *testing.T) {
		d := newDLTest(t, dlTestOptions{})
		before := d.lpa.Stats()
		ac := d.ac()
		ac.ConfirmationCodeRequired = true
		_, err := d.lpa.Download(d.ctx, d.es9, ac, DownloadOptions{})
		var de *DownloadError
		if !errors.Is(err, ErrConfirmationCodeRequired) || !errors.As(err, &de) || de.Step != StepConfirmationCode || de.Cancel != nil {
			t.Fatalf("got %v", err)
		}
		if d.lpa.Stats() != before || len(d.smdp.callList()) != 0 {
			t.Errorf("the card or the server was contacted: %+v, %v", d.lpa.Stats(), d.smdp.callList())
		}
	})
	t.Run("server requires a code, none given", func(t *testing.T) {
		d := newDLTest(t, dlTestOptions{})
		d.smdp.set(func(s *fakeSMDP) { s.ccRequired, s.cc = true, "1234" })
		_, err := d.lpa.Download(d.ctx, d.es9, d.ac(), DownloadOptions{})
		var de *DownloadError
		if !errors.Is(err, ErrConfirmationCodeRequired) || !errors.As(err, &de) || de.Step != StepConfirmationCode {
			t.Fatalf("got %v", err)
		}
		if slices.Contains(d.smdp.callList(), "getBoundProfilePackage") {
			t.Error("BPP requested without a confirmation code")
		}
		checkCancelled(t, d, de, rsp.CancelPostponed)
	})
	t.Run("right code", func(t *testing.T) {
		d := newDLTest(t, dlTestOptions{})
		d.smdp.set(func(s *fakeSMDP) { s.ccRequired, s.cc = true, "1234" })
		ac := d.ac()
		ac.ConfirmationCodeRequired = true
		res, err := d.lpa.Download(d.ctx, d.es9, ac, DownloadOptions{ConfirmationCode: "1234"})
		if err != nil || res.ICCID != testICCIDN(1) {
			t.Fatalf("got %+v, %v", res, err)
		}
	})
	t.Run("wrong code", func(t *testing.T) {
		d := newDLTest(t, dlTestOptions{})
		d.smdp.set(func(s *fakeSMDP) { s.ccRequired, s.cc = true, "1234" })
		_, err := d.lpa.Download(d.ctx, d.es9, d.ac(), DownloadOptions{ConfirmationCode: "9999"})
		var de *DownloadError
		if !errors.As(err, &de) || de.Step != StepGetBoundProfilePackage || !errors.Is(err, es9.StatusConfirmationCodeRefused().Err()) {
			t.Fatalf("got %v", err)
		}
		checkCancelled(t, d, de, rsp.CancelUndefinedReason)
	})
}

// checkCancelled checks that a failed download was cancelled on both sides
// with reason, left no session and no profile on the card, and that the
// same activation code then downloads.
func checkCancelled(t *testing.T, d *dlTest, de *DownloadError, reason rsp.CancelSessionReason) {
	t.Helper()
	if de.Cancel == nil || !de.Cancel.EUICC || !de.Cancel.SMDP || de.Cancel.Err != nil || de.Cancel.Reason != reason {
		t.Fatalf("cancel report %+v, want both sides cancelled with %s", de.Cancel, reason)
	}
	cs := d.smdp.cancelList()
	if len(cs) != 1 || cs[0].reason != reason || !bytes.Equal(cs[0].txid, de.TransactionID) {
		t.Fatalf("server saw cancels %+v, want one for %X with %s", cs, de.TransactionID, reason)
	}
	if !strings.Contains(de.Error(), "download: "+string(de.Step)+":") {
		t.Errorf("error %q does not name the step", de)
	}
	d.noSession(de.TransactionID)
	if ps := d.profiles(); len(ps) != 0 {
		t.Fatalf("profiles left on the card: %v", ps)
	}
	if d.smdp.openSessions() != 0 {
		t.Errorf("%d sessions open on the server", d.smdp.openSessions())
	}
	d.smdp.set(func(s *fakeSMDP) {
		s.fail = map[string]es9.Status{}
		s.hook = map[string]func(*http.Request){}
		s.matchingID = "ORDER-1"
	})
	res, err := d.lpa.Download(context.Background(), d.es9, d.ac(), DownloadOptions{ConfirmationCode: "1234"})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if ps := d.profiles(); len(ps) != 1 || ps[0] != res.ICCID {
		t.Fatalf("after the retry the card has %v", ps)
	}
}

func TestDownloadCancel(t *testing.T) {
	userReject := errors.New("user said no")
	tests := []struct {
		name   string
		setup  func(d *dlTest, cancel context.CancelCauseFunc, opts *DownloadOptions)
		step   Step
		reason rsp.CancelSessionReason
		is     error
	}{
		{
			name: "user rejects the metadata",
			setup: func(d *dlTest, _ context.CancelCauseFunc, o *DownloadOptions) {
				o.Confirm = func(context.Context, rsp.StoreMetadataRequest) error { return userReject }
			},
			step: StepConfirm, reason: rsp.CancelEndUserRejection, is: userReject,
		},
		{
			name: "metadata mismatch",
			setup: func(d *dlTest, _ context.CancelCauseFunc, o *DownloadOptions) {
				o.Confirm = func(_ context.Context, md rsp.StoreMetadataRequest) error {
					return fmt.Errorf("ICCID %s not ordered: %w", md.ICCID, ErrMetadataMismatch)
				}
			},
			step: StepConfirm, reason: rsp.CancelMetadataMismatch, is: ErrMetadataMismatch,
		},
		{
			name: "context cancelled while installing",
			setup: func(d *dlTest, cancel context.CancelCauseFunc, o *DownloadOptions) {
				o.Progress = func(p Progress) {
					if p.Stage == StageInstalling && p.Done == 2 {
						cancel(context.Canceled)
					}
				}
			},
			step: StepLoadBoundProfilePackage, reason: rsp.CancelPostponed, is: context.Canceled,
		},
		{
			name: "user cancels during getBoundProfilePackage",
			setup: func(d *dlTest, cancel context.CancelCauseFunc, o *DownloadOptions) {
				d.smdp.set(func(s *fakeSMDP) {
					s.hook["getBoundProfilePackage"] = func(r *http.Request) {
						cancel(ErrCancelledByUser)
						<-r.Context().Done() // answer only once the client gave up
					}
				})
			},
			// The error is the cancellation, or (should the server's
			// answer win the race) its 503: the reason comes from ctx.
			step: StepGetBoundProfilePackage, reason: rsp.CancelEndUserRejection,
		},
		{
			name: "user cancels in Confirm",
			setup: func(d *dlTest, cancel context.CancelCauseFunc, o *DownloadOptions) {
				o.Confirm = func(context.Context, rsp.StoreMetadataRequest) error {
					cancel(ErrCancelledByUser)
					return nil
				}
			},
			step: StepConfirm, reason: rsp.CancelEndUserRejection, is: ErrCancelledByUser,
		},
		{
			name: "matching ID refused",
			setup: func(d *dlTest, _ context.CancelCauseFunc, o *DownloadOptions) {
				d.smdp.set(func(s *fakeSMDP) { s.matchingID = "OTHER" })
			},
			step: StepAuthenticateClient, reason: rsp.CancelUndefinedReason, is: es9.StatusMatchingIDRefused().Err(),
		},
		{
			name: "BPP not available",
			setup: func(d *dlTest, _ context.CancelCauseFunc, o *DownloadOptions) {
				d.smdp.set(func(s *fakeSMDP) { s.fail["getBoundProfilePackage"] = es9.StatusBPPNotAvailable() })
			},
			step: StepGetBoundProfilePackage, reason: rsp.CancelUndefinedReason, is: es9.StatusBPPNotAvailable().Err(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDLTest(t, dlTestOptions{})
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			var opts DownloadOptions
			tc.setup(d, cancel, &opts)
			_, err := d.lpa.Download(ctx, d.es9, d.ac(), opts)
			var de *DownloadError
			if !errors.As(err, &de) || de.Step != tc.step || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Fatalf("got %v, want step %s wrapping %v", err, tc.step, tc.is)
			}
			checkCancelled(t, d, de, tc.reason)
		})
	}
}

func TestCancelReason(t *testing.T) {
	live := context.Background()
	cancelled, c1 := context.WithCancel(live)
	c1()
	byUser, c2 := context.WithCancelCause(live)
	c2(ErrCancelledByUser)
	expired, c3 := context.WithDeadline(live, time.Unix(1, 0))
	defer c3()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		def  rsp.CancelSessionReason
		want rsp.CancelSessionReason
	}{
		{"default", live, errors.New("x"), rsp.CancelLoadBPPExecutionError, rsp.CancelLoadBPPExecutionError},
		{"cancelled", cancelled, context.Canceled, rsp.CancelUndefinedReason, rsp.CancelPostponed},
		{"cancelled by the user", byUser, context.Canceled, rsp.CancelUndefinedReason, rsp.CancelEndUserRejection},
		{"user error", live, fmt.Errorf("x: %w", ErrCancelledByUser), rsp.CancelUndefinedReason, rsp.CancelEndUserRejection},
		{"deadline", expired, context.DeadlineExceeded, rsp.CancelLoadBPPExecutionError, rsp.CancelTimeout},
		{"request timeout", live, &TransportError{Err: context.DeadlineExceeded}, rsp.CancelUndefinedReason, rsp.CancelTimeout},
		{"request cancelled", live, &TransportError{Err: context.Canceled}, rsp.CancelUndefinedReason, rsp.CancelPostponed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := cancelReason(tc.ctx, tc.err, tc.def); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestDownloadInstallError(t *testing.T) {
	d := newDLTest(t, dlTestOptions{})
	d.smdp.set(func(s *fakeSMDP) { s.fixedICCID = testICCIDN(7) })
	first := d.downloadOK(DownloadOptions{})
	// The same ICCID again: the eUICC refuses it in StoreMetadata.
	_, err := d.lpa.Download(d.ctx, d.es9, d.ac(), DownloadOptions{})
	var de *DownloadError
	var ie *rsp.InstallError
	if !errors.As(err, &de) || de.Step != StepLoadBoundProfilePackage || !errors.As(err, &ie) ||
		ie.Reason != rsp.InstallICCIDAlreadyExistsOnEUICC {
		t.Fatalf("got %v, want an InstallError iccidAlreadyExists", err)
	}
	if de.Cancel != nil {
		t.Errorf("cancel attempted after the eUICC ended the session: %+v", de.Cancel)
	}
	if cs := d.smdp.cancelList(); len(cs) != 0 {
		t.Errorf("server saw cancels %+v", cs)
	}
	// The failed result reached the SM-DP+ and left the card.
	ns := d.smdp.notificationList()
	if len(ns) != 2 || ns[1].install == nil || ns[1].install.Err() == nil || !bytes.Equal(ns[1].install.Data.TransactionID, de.TransactionID) {
		t.Fatalf("server notifications %+v", ns)
	}
	if pending := d.notifications(); len(pending) != 0 {
		t.Errorf("pending notifications %+v", pending)
	}
	if ps := d.profiles(); len(ps) != 1 || ps[0] != first.ICCID {
		t.Errorf("profiles %v", ps)
	}
	d.noSession(de.TransactionID)
}

func TestDownloadCardReset(t *testing.T) {
	d := newDLTest(t, dlTestOptions{})
	_, err := d.lpa.Download(d.ctx, d.es9, d.ac(), DownloadOptions{Progress: func(p Progress) {
		if p.Stage == StageInstalling && p.Done == 3 {
			d.card.Reset()
		}
	}})
	var de *DownloadError
	if !errors.As(err, &de) || de.Step != StepLoadBoundProfilePackage || !errors.Is(err, ErrCardReset) {
		t.Fatalf("got %v", err)
	}
	if de.Cancel == nil || !de.Cancel.NoSession || de.Cancel.EUICC || de.Cancel.Err != nil {
		t.Fatalf("cancel report %+v", de.Cancel)
	}
	if ps := d.profiles(); len(ps) != 0 {
		t.Fatalf("partial profile left: %v", ps)
	}
	// The retry is a new session with the same activation code.
	res := d.downloadOK(DownloadOptions{})
	if bytes.Equal(res.TransactionID, de.TransactionID) || res.FromCache {
		t.Errorf("retry reused the session: %+v", res)
	}
}

func TestDownloadNotificationKeptWhenServerFails(t *testing.T) {
	d := newDLTest(t, dlTestOptions{})
	d.smdp.set(func(s *fakeSMDP) { s.notifyStatus = 500 })
	res := d.downloadOK(DownloadOptions{})
	var te *TransportError
	if res.NotificationDelivered || !errors.As(res.NotificationErr, &te) || te.StatusCode != 500 {
		t.Fatalf("notification delivered %v, err %v", res.NotificationDelivered, res.NotificationErr)
	}
	pending := d.notifications()
	if len(pending) != 1 || pending[0].Event != rsp.EventInstall || pending[0].ICCID != res.ICCID {
		t.Fatalf("pending %+v", pending)
	}

	// Still failing: reported, kept.
	rep, err := d.lpa.ProcessNotifications(d.ctx, d.es9, NotifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Delivered) != 0 || len(rep.Failed) != 1 || rep.Failed[0].Notification.Seq != pending[0].Seq ||
		!errors.Is(rep.Failed[0].Err, ErrBadStatus) {
		t.Fatalf("report %+v", rep)
	}
	if got := d.notifications(); len(got) != 1 {
		t.Fatalf("pending after a failed delivery: %+v", got)
	}

	// The server is back: delivered, then removed.
	d.smdp.set(func(s *fakeSMDP) { s.notifyStatus = 0 })
	rep, err = d.lpa.ProcessNotifications(d.ctx, d.es9, NotifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) != 0 || len(rep.Delivered) != 1 || !rep.Delivered[0].Removed || rep.Delivered[0].Err != nil {
		t.Fatalf("report %+v", rep)
	}
	if got := d.notifications(); len(got) != 0 {
		t.Fatalf("pending after delivery: %+v", got)
	}
	ns := d.smdp.notificationList()
	if len(ns) != 1 || ns[0].install == nil || !bytes.Equal(ns[0].install.Data.TransactionID, res.TransactionID) {
		t.Fatalf("server notifications %+v", ns)
	}
}

func TestProcessNotifications(t *testing.T) {
	d := newDLTest(t, dlTestOptions{})
	res := d.downloadOK(DownloadOptions{})
	// Enabling and disabling the new profile creates two signed
	// notifications addressed to the SM-DP+ (its metadata asks for them).
	if err := d.lpa.Enable(d.ctx, rsp.ProfileID{ICCID: res.ICCID}, false); err != nil {
		t.Fatal(err)
	}
	if err := d.lpa.Disable(d.ctx, rsp.ProfileID{ICCID: res.ICCID}, false); err != nil {
		t.Fatal(err)
	}
	pending := d.notifications()
	if len(pending) != 2 {
		t.Fatalf("pending %+v", pending)
	}
	for _, n := range pending {
		if n.Address != d.smdp.addr {
			t.Fatalf("notification address %q", n.Address)
		}
	}
	slices.SortFunc(pending, func(a, b rsp.NotificationMetadata) int { return a.Seq - b.Seq })

	// Unknown sequence number.
	bad := pending[1].Seq + 100
	if _, err := d.lpa.ProcessNotifications(d.ctx, d.es9, NotifyOptions{Seq: &bad}); !errors.Is(err, ErrNotificationNotFound) {
		t.Fatalf("unknown seq: %v", err)
	}
	// One by sequence number, kept on the card.
	seq := pending[1].Seq
	rep, err := d.lpa.ProcessNotifications(d.ctx, d.es9, NotifyOptions{Seq: &seq, KeepOnCard: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Delivered) != 1 || rep.Delivered[0].Notification.Seq != seq || rep.Delivered[0].Removed || len(rep.Failed) != 0 {
		t.Fatalf("report %+v", rep)
	}
	if got := d.notifications(); len(got) != 2 {
		t.Fatalf("KeepOnCard removed a notification: %+v", got)
	}
	// All of them, removed after acknowledgement, in sequence order.
	rep, err = d.lpa.ProcessNotifications(d.ctx, d.es9, NotifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Delivered) != 2 || rep.Delivered[0].Notification.Seq != pending[0].Seq || rep.Delivered[1].Notification.Seq != seq ||
		!rep.Delivered[0].Removed || !rep.Delivered[1].Removed {
		t.Fatalf("report %+v", rep)
	}
	if got := d.notifications(); len(got) != 0 {
		t.Fatalf("pending after delivery: %+v", got)
	}
	ns := d.smdp.notificationList()
	// install (from Download), the kept one, then both.
	if len(ns) != 4 || ns[1].install != nil || !bytes.Equal(ns[1].raw, ns[3].raw) {
		t.Fatalf("server notifications %d", len(ns))
	}
	if _, err := d.lpa.ProcessNotifications(d.ctx, nil, NotifyOptions{}); err == nil {
		t.Error("nil ES9Client accepted")
	}
}

func TestProcessNotificationsContext(t *testing.T) {
	d := newDLTest(t, dlTestOptions{})
	d.smdp.set(func(s *fakeSMDP) { s.notifyStatus = 503 })
	d.downloadOK(DownloadOptions{})
	d.downloadOK(DownloadOptions{})
	d.smdp.set(func(s *fakeSMDP) { s.notifyStatus = 0 })
	ctx, cancel := context.WithCancel(context.Background())
	d.smdp.set(func(s *fakeSMDP) {
		s.hook["handleNotification"] = func(r *http.Request) {
			cancel()
			<-r.Context().Done() // answer only once the client gave up
		}
	})
	rep, err := d.lpa.ProcessNotifications(ctx, d.es9, NotifyOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if len(rep.Delivered) != 0 || len(rep.Failed) != 1 || rep.Failed[0].Err == nil {
		t.Fatalf("report %+v: want the loop to stop after the first notification", rep)
	}
	if got := d.notifications(); len(got) != 2 {
		t.Fatalf("pending %+v", got)
	}
	if n := len(d.smdp.notificationList()); n != 0 {
		t.Fatalf("server stored %d notifications", n)
	}
}

func TestDownloadBPPCache(t *testing.T) {
	t.Run("link lost before the load, session kept by the card", func(t *testing.T) {
		d := newDLTest(t, dlTestOptions{})
		cache, err := NewBPPCache(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		opts := DownloadOptions{BPPCache: cache, Progress: func(p Progress) {
			if p.Stage == StageInstalling && p.Done == 0 {
				d.link.offline.Store(true)
			}
		}}
		_, err = d.lpa.Download(d.ctx, d.es9, d.ac(), opts)
		var de *DownloadError
		if !errors.As(err, &de) || !errors.Is(err, errModemGone) || de.Cancel == nil || de.Cancel.Err == nil || de.Cancel.EUICC {
			t.Fatalf("got %v (cancel %+v)", err, de.Cancel)
		}
		if _, ok, _ := cache.Get(d.smdp.addr, "ORDER-1"); !ok {
			t.Fatal("BPP not kept although the card could not be told")
		}
		// A new process with the same cache directory.
		d.link.offline.Store(false)
		cache2, err := NewBPPCache(cache.dir)
		if err != nil {
			t.Fatal(err)
		}
		callsBefore := len(d.smdp.callList())
		res, err := d.lpa.Download(d.ctx, d.es9, d.ac(), DownloadOptions{BPPCache: cache2})
		if err != nil {
			t.Fatal(err)
		}
		if !res.FromCache || !bytes.Equal(res.TransactionID, de.TransactionID) || res.ICCID != testICCIDN(1) || !res.NotificationDelivered {
			t.Fatalf("result %+v", res)
		}
		if got := d.smdp.callList()[callsBefore:]; !slices.Equal(got, []string{"handleNotification"}) {
			t.Errorf("server calls for the cached load: %v", got)
		}
		if _, ok, _ := cache2.Get(d.smdp.addr, "ORDER-1"); ok {
			t.Error("BPP kept after installation")
		}
	})
	t.Run("the card lost the session", func(t *testing.T) {
		d := newDLTest(t, dlTestOptions{})
		cache, err := NewBPPCache("")
		if err != nil {
			t.Fatal(err)
		}
		opts := DownloadOptions{BPPCache: cache, Progress: func(p Progress) {
			if p.Stage == StageInstalling && p.Done == 0 {
				d.link.offline.Store(true)
			}
		}}
		if _, err := d.lpa.Download(d.ctx, d.es9, d.ac(), opts); !errors.Is(err, errModemGone) {
			t.Fatalf("got %v", err)
		}
		d.link.offline.Store(false)
		d.card.Reset()
		res, err := d.lpa.Download(d.ctx, d.es9, d.ac(), DownloadOptions{BPPCache: cache})
		if err != nil {
			t.Fatal(err)
		}
		if res.FromCache || res.ICCID != testICCIDN(2) {
			t.Fatalf("result %+v: want a new session", res)
		}
		if _, ok, _ := cache.Get(d.smdp.addr, "ORDER-1"); ok {
			t.Error("stale BPP kept")
		}
	})
	t.Run("dropped after a clean cancel", func(t *testing.T) {
		d := newDLTest(t, dlTestOptions{})
		cache, err := NewBPPCache("")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, err = d.lpa.Download(ctx, d.es9, d.ac(), DownloadOptions{BPPCache: cache, Progress: func(p Progress) {
			if p.Stage == StageInstalling && p.Done == 1 {
				cancel()
			}
		}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
		if _, ok, _ := cache.Get(d.smdp.addr, "ORDER-1"); ok {
			t.Error("BPP kept after the session was cancelled")
		}
	})
}

func TestBPPCacheStore(t *testing.T) {
	dir := t.TempDir()
	c, err := NewBPPCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := CachedBPP{SMDPAddress: "smdp.example.com", TransactionID: []byte{1, 2}, ProfileMetadata: []byte{0xBF, 0x25, 0}, BPP: []byte{0xBF, 0x36, 0}}
	if err := c.Put("SMDP.example.com", "SECRET-ID", e); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 || strings.Contains(files[0], "SECRET") {
		t.Fatalf("files %v", files)
	}
	if st, err := os.Stat(files[0]); err != nil || st.Mode().Perm()&0o077 != 0 {
		t.Fatalf("file mode %v %v", st.Mode(), err)
	}
	c2, _ := NewBPPCache(dir)
	got, ok, err := c2.Get("smdp.example.com", "SECRET-ID")
	if err != nil || !ok || !bytes.Equal(got.BPP, e.BPP) || !bytes.Equal(got.TransactionID, e.TransactionID) || got.Stored.IsZero() {
		t.Fatalf("Get = %+v %v %v", got, ok, err)
	}
	if _, ok, _ := c2.Get("smdp.example.com", "OTHER"); ok {
		t.Error("entry found under another matching ID")
	}
	if err := c2.Delete("smdp.example.com", "SECRET-ID"); err != nil {
		t.Fatal(err)
	}
	if err := c2.Delete("smdp.example.com", "SECRET-ID"); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if _, ok, _ := c.Get("smdp.example.com", "SECRET-ID"); ok {
		t.Error("an instance on the same directory still sees the deleted entry")
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 0 {
		t.Fatalf("files left %v", files)
	}
	// A corrupt file is an error, not a silent hit.
	_, file := cacheKey("x.example", "M")
	if err := os.WriteFile(filepath.Join(dir, file), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c2.Get("x.example", "M"); ok || err == nil {
		t.Fatalf("corrupt file: ok %v err %v", ok, err)
	}
}

// BenchmarkDownload measures a complete download in-process: TLS ES9+ to
// the fake SM-DP+ (real signatures, real BPP protection) and ES10 to the
// simulated eUICC, including the notification; the profile is deleted
// after each iteration.
func BenchmarkDownload(b *testing.B) {
	d := newDLTest(b, dlTestOptions{})
	d.smdp.set(func(s *fakeSMDP) { s.noNotifyConf = true })
	var apdus, bytesOut int64
	for b.Loop() {
		res, err := d.lpa.Download(d.ctx, d.es9, d.ac(), DownloadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		apdus += res.APDUs
		bytesOut += res.BytesOut
		if err := d.lpa.Delete(d.ctx, rsp.ProfileID{ICCID: res.ICCID}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(apdus)/float64(b.N), "apdus/op")
	b.ReportMetric(float64(bytesOut)/float64(b.N), "es10-bytes-out/op")
}
