package sim

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Options.
const (
	DefaultIMEI          = "490154203237518"
	DefaultManufacturer  = "Mobileplans"
	DefaultModel         = "SimModem 1000"
	DefaultRevision      = "1.0.0"
	DefaultAttachDelay   = 100 * time.Millisecond
	firstSessionID       = 100
	maxPDPContexts       = 16
	defaultSignalRSSI    = 20 // +CSQ <rssi>: -73 dBm
	defaultAccessTech    = 7  // E-UTRAN
	defaultLocationArea  = "1A2B"
	defaultCellID        = "01A2B3C4"
	defaultURCQueueDepth = 64
)

// Options configures a Modem. The zero value is usable.
type Options struct {
	Logger *slog.Logger
	// Log, when set, receives one line per command received and per line
	// sent ("15:04:05.000 > AT+CGMI", "15:04:05.000 < OK"), including
	// commands swallowed or delayed by a fault.
	Log io.Writer
	// IMEI defaults to DefaultIMEI (15 digits, valid Luhn check digit).
	IMEI string
	// Manufacturer, Model and Revision default to DefaultManufacturer,
	// DefaultModel and DefaultRevision.
	Manufacturer, Model, Revision string
	// SIMReadyDelay is how long the card stays NOT READY after a reset
	// (between the +CPIN: NOT READY and +CPIN: READY URCs); during that time
	// commands that need the card answer +CME ERROR: 14 (SIM busy). Zero
	// reports READY right after NOT READY.
	SIMReadyDelay time.Duration
	// AttachDelay is how long the modem searches (registration state 2)
	// after a card reset before it registers again. Zero means
	// DefaultAttachDelay; a negative value registers at once.
	AttachDelay time.Duration
}

// Modem is one simulated modem. Its methods are safe for concurrent use; any
// number of Serve calls may share it (each is one AT port with its own echo,
// error-format and URC settings, like the ports of a USB modem).
type Modem struct {
	card Card
	opts Options
	log  *slog.Logger

	// Fault switches and flags read without mu.
	delay        atomic.Int64
	drop         atomic.Bool
	garbage      atomic.Bool
	cardBusy     atomic.Uint32
	cchoBare     atomic.Bool
	cchoDisabled atomic.Bool
	// cardEpoch counts card resets; a session opened in an older epoch is
	// gone. The reset hook only touches this (it may run inside Transmit).
	cardEpoch atomic.Uint64

	cmdMu    sync.Mutex
	commands []string

	logMu sync.Mutex

	// mu serialises command execution (like the single AT processor of a
	// modem) and guards everything below.
	mu          sync.Mutex
	ports       map[*port]struct{}
	sessions    map[int]session
	nextSession int
	cfun        int
	copsMode    int
	regOverride *regOverride
	searching   bool
	simBusy     bool
	resetGen    int
	lastStat    int
	contexts    map[int]*pdpContext

	ptyWG   sync.WaitGroup
	ptyMu   sync.Mutex
	ptyErrs []error
}

type regOverride struct {
	stat int
	oper string
}

type session struct {
	channel int
	epoch   uint64
}

type pdpContext struct {
	pdpType string
	apn     string
	active  bool
}

// New returns a modem in full functionality (CFUN=1) backed by card. It
// installs its reset hook on the card.
func New(card Card, opts Options) *Modem {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.IMEI == "" {
		opts.IMEI = DefaultIMEI
	}
	if opts.Manufacturer == "" {
		opts.Manufacturer = DefaultManufacturer
	}
	if opts.Model == "" {
		opts.Model = DefaultModel
	}
	if opts.Revision == "" {
		opts.Revision = DefaultRevision
	}
	if opts.AttachDelay == 0 {
		opts.AttachDelay = DefaultAttachDelay
	}
	m := &Modem{
		card:        card,
		opts:        opts,
		log:         opts.Logger,
		ports:       make(map[*port]struct{}),
		sessions:    make(map[int]session),
		nextSession: firstSessionID,
		cfun:        1,
		contexts:    make(map[int]*pdpContext),
	}
	if !luhnValid(opts.IMEI) {
		m.log.Warn("sim: IMEI is not 15 digits with a valid check digit", "imei", opts.IMEI)
	}
	m.mu.Lock()
	m.lastStat = m.regStatLocked()
	m.mu.Unlock()
	card.SetResetHook(m.cardWasReset)
	return m
}

// Commands returns every AT command line received so far, in order.
func (m *Modem) Commands() []string {
	m.cmdMu.Lock()
	defer m.cmdMu.Unlock()
	return append([]string(nil), m.commands...)
}

// SetDelay delays every reply by d (0 disables).
func (m *Modem) SetDelay(d time.Duration) { m.delay.Store(int64(d)) }

// SetDrop makes the modem swallow commands: they are logged but neither
// echoed, executed nor answered. URCs are still sent.
func (m *Modem) SetDrop(on bool) { m.drop.Store(on) }

// SetGarbage makes the modem send a few random non-printable bytes (never CR
// or LF) before each reply.
func (m *Modem) SetGarbage(on bool) { m.garbage.Store(on) }

// SetCardBusy makes +CGLA and +CSIM answer with status word sw instead of
// passing the APDU to the card (for example 0x6F00 or 0x6985); 0 clears it.
func (m *Modem) SetCardBusy(sw uint16) { m.cardBusy.Store(uint32(sw)) }

// SetCCHOForm selects the +CCHO answer: bare "<sessionid>" (27.007) when
// bare, "+CCHO: <sessionid>" (most vendors, the default) otherwise.
func (m *Modem) SetCCHOForm(bare bool) { m.cchoBare.Store(bare) }

// SetCCHOSupported(false) makes +CCHO, +CGLA and +CCHC answer
// +CME ERROR: 4 (operation not supported), forcing clients onto +CSIM.
func (m *Modem) SetCCHOSupported(ok bool) { m.cchoDisabled.Store(!ok) }

// SetRegistration overrides the network state: stat is a 27.007 <stat>
// (0 not registered, 1 home, 2 searching, 3 denied, 4 unknown, 5 roaming)
// and oper the serving network's MCCMNC ("" for the active profile's home
// network). A negative stat returns to the automatic state (home when a
// profile is enabled and CFUN=1). Ports that enabled registration URCs with
// +CREG/+CGREG/+CEREG=1|2 get them when the state changes. The override
// applies only while CFUN=1 and +COPS is not deregistered.
func (m *Modem) SetRegistration(stat int, oper string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if stat < 0 {
		m.regOverride = nil
	} else {
		m.regOverride = &regOverride{stat: stat, oper: oper}
	}
	m.updateRegLocked(true)
}

// SendURC sends an unsolicited result code line to every port that is being
// served. It is written between replies, never inside one.
func (m *Modem) SendURC(line string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.broadcastLocked(func(*port) string { return line })
}

func (m *Modem) recordCommand(line string) {
	m.cmdMu.Lock()
	m.commands = append(m.commands, line)
	m.cmdMu.Unlock()
}

// trace writes one line to Options.Log.
func (m *Modem) trace(dir, text string) {
	if m.opts.Log == nil {
		return
	}
	m.logMu.Lock()
	defer m.logMu.Unlock()
	// A failing trace writer must not break the modem.
	_, _ = io.WriteString(m.opts.Log, time.Now().Format("15:04:05.000")+" "+dir+" "+text+"\n")
}

// luhnValid reports whether s is 15 decimal digits with a valid Luhn check digit.
func luhnValid(s string) bool {
	if len(s) != 15 {
		return false
	}
	sum := 0
	for i := 0; i < len(s); i++ {
		d := int(s[len(s)-1-i] - '0')
		if d < 0 || d > 9 {
			return false
		}
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
