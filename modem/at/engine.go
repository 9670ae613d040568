package at

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Port is the byte stream to the modem's AT interface. Read must return
// (0, nil) when the read timeout expires without data, and must return an
// error once the port is closed. go.bug.st/serial's Port satisfies it.
type Port interface {
	io.ReadWriteCloser
	SetReadTimeout(time.Duration) error
}

// Transports for APDUs, see Config.Transport.
const (
	TransportAuto = "auto"
	TransportCGLA = "cgla"
	TransportCSIM = "csim"
)

// Config configures a Modem. The zero value of every field selects its
// default.
type Config struct {
	// Device is the serial port, e.g. /dev/ttyUSB2 or COM5 (Open only).
	Device string
	// Baud is the line speed, default 115200 (Open only).
	Baud int
	// CommandTimeout is the default deadline of one command, default 10s.
	CommandTimeout time.Duration
	// APDUTimeout is the deadline of +CCHO/+CGLA/+CCHC/+CSIM, default 60s:
	// eUICC operations such as loading a bound profile package are slow.
	APDUTimeout time.Duration
	// Logger receives diagnostics; default: discard.
	Logger *slog.Logger
	// Transport selects how APDUs reach the card: TransportAuto (default:
	// +CCHO/+CGLA, falling back to +CSIM when +CCHO is refused with ERROR
	// or +CME ERROR 3/4), TransportCGLA or TransportCSIM.
	Transport string
	// Trace, when set, receives every command ("> AT...") and every
	// received line ("< ...") with a timestamp. It contains APDUs in full.
	Trace io.Writer
	// URCBuffer is the capacity of the URCs channel, default 64.
	URCBuffer int
}

func (c Config) withDefaults() (Config, error) {
	if c.Baud == 0 {
		c.Baud = 115200
	}
	if c.CommandTimeout <= 0 {
		c.CommandTimeout = 10 * time.Second
	}
	if c.APDUTimeout <= 0 {
		c.APDUTimeout = 60 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch c.Transport {
	case "":
		c.Transport = TransportAuto
	case TransportAuto, TransportCGLA, TransportCSIM:
	default:
		return c, fmt.Errorf("at: unknown transport %q (want auto, cgla or csim)", c.Transport)
	}
	if c.URCBuffer <= 0 {
		c.URCBuffer = 64
	}
	return c, nil
}

// Response is the answer to one command: its information lines (without
// echo, blank lines and URCs) and the final result code.
type Response struct {
	Lines []string
	Final string
}

const (
	readTimeout = 100 * time.Millisecond
	// closeWait bounds how long Close waits for the reader to stop.
	closeWait = 2 * time.Second
)

// Modem is an AT-command modem on a port. It implements modem.Modem; its
// methods are safe for concurrent use (commands are serialised).
type Modem struct {
	port Port
	cfg  Config
	log  *slog.Logger

	sem chan struct{} // held by the command in flight

	mu        sync.Mutex // guards the fields below
	cur       *call      // the command in flight, nil when idle
	dead      error      // why the reader stopped; nil while it runs
	urcFollow bool       // the next line belongs to a two-line URC
	transport string     // resolved APDU transport (auto until known)

	urcs       chan string
	urcDropped atomic.Uint64
	// simEpoch counts unsolicited +CPIN: lines: each one means the card was
	// reset or removed, which closes every logical channel.
	simEpoch atomic.Uint64

	traceMu sync.Mutex

	closing    chan struct{}
	closeOnce  sync.Once
	closeErr   error
	readerDone chan struct{}
}

type call struct {
	cmd      string
	name     string
	prefix   string // "+CEREG" for "AT+CEREG?"
	kind     byte   // '?' read, 't' test (=?), '=' set, 0 execute
	echoSeen bool
	lines    []string
	final    string
	err      error // the reader stopped
	done     chan struct{}
}

func newCall(cmd string) *call {
	c := &call{cmd: cmd, name: cmdName(cmd), prefix: respPrefix(cmd), done: make(chan struct{})}
	switch t := strings.TrimSpace(cmd); {
	case strings.HasSuffix(t, "=?"):
		c.kind = 't'
	case strings.HasSuffix(t, "?"):
		c.kind = '?'
	case strings.Contains(t, "="):
		c.kind = '='
	}
	return c
}

// New runs the modem on an already-open port and initialises it (AT, retried
// a few times; ATE0; AT+CMEE=1). The Modem owns the port from then on, also
// when New fails.
func New(ctx context.Context, port Port, cfg Config) (*Modem, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		port.Close()
		return nil, err
	}
	if err := port.SetReadTimeout(readTimeout); err != nil {
		port.Close()
		return nil, fmt.Errorf("at: set read timeout: %w", err)
	}
	m := &Modem{
		port:       port,
		cfg:        cfg,
		log:        cfg.Logger,
		sem:        make(chan struct{}, 1),
		transport:  cfg.Transport,
		urcs:       make(chan string, cfg.URCBuffer),
		closing:    make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	go m.reader()
	if err := m.init(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func (m *Modem) init(ctx context.Context) error {
	d := min(m.cfg.CommandTimeout, 2*time.Second)
	var err error
	for range 4 {
		if _, err = m.CommandTimeout(ctx, "AT", d); err == nil {
			break
		}
		if ctx.Err() != nil || errors.Is(err, ErrClosed) {
			break
		}
		m.log.Debug("modem did not answer AT, retrying", "err", err)
	}
	if err != nil {
		return fmt.Errorf("at: modem does not answer: %w", err)
	}
	if _, err := m.Command(ctx, "ATE0"); err != nil {
		if !isCommandError(err) {
			return err
		}
		m.log.Warn("modem refused ATE0; echo stays on", "err", err)
	}
	if _, err := m.Command(ctx, "AT+CMEE=1"); err != nil {
		if !isCommandError(err) {
			return err
		}
		m.log.Warn("modem refused AT+CMEE=1; errors stay plain", "err", err)
	}
	return nil
}

// isCommandError reports whether err is the modem's refusal of a command
// (ERROR, +CME ERROR, +CMS ERROR, NO CARRIER...) rather than a transport
// failure (timeout, closed port, cancelled context).
func isCommandError(err error) bool {
	var cme *CMEError
	var cms *CMSError
	var res *ResultError
	return errors.Is(err, ErrError) || errors.As(err, &cme) || errors.As(err, &cms) || errors.As(err, &res)
}

// URCs returns the unsolicited result codes (+CEREG:, +CPIN:, RING, ...)
// and the lines that arrived while no command was in flight. The channel is
// buffered; when it is full new lines are dropped (and counted, see
// DroppedURCs) so that the reader never blocks. It is closed when the
// modem is closed or its port fails.
func (m *Modem) URCs() <-chan string { return m.urcs }

// DroppedURCs is the number of unsolicited lines dropped because URCs()
// was full.
func (m *Modem) DroppedURCs() uint64 { return m.urcDropped.Load() }

// Command sends one command (e.g. "AT+CGMI") and waits for its final result
// code within the earlier of ctx's deadline and Config.CommandTimeout.
func (m *Modem) Command(ctx context.Context, cmd string) (Response, error) {
	return m.CommandTimeout(ctx, cmd, m.cfg.CommandTimeout)
}

// CommandTimeout is Command with its own deadline d. On a final result other
// than OK the error is ErrError, *CMEError, *CMSError or *ResultError, and
// the Response is returned too. A missing answer gives ErrTimeout.
func (m *Modem) CommandTimeout(ctx context.Context, cmd string, d time.Duration) (Response, error) {
	if d <= 0 {
		d = m.cfg.CommandTimeout
	}
	c := newCall(cmd)
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return Response{}, fmt.Errorf("%s: %w", c.name, ctx.Err())
	case <-m.closing:
		return Response{}, fmt.Errorf("%s: %w", c.name, ErrClosed)
	}
	defer func() { <-m.sem }()

	m.mu.Lock()
	if m.dead != nil {
		err := m.dead
		m.mu.Unlock()
		return Response{}, fmt.Errorf("%s: %w", c.name, err)
	}
	m.cur = c
	m.mu.Unlock()

	m.trace(">", cmd)
	m.log.Debug("at command", "cmd", c.name)
	if _, err := m.port.Write([]byte(cmd + "\r")); err != nil {
		if m.abandon(c) {
			select {
			case <-m.closing:
				return Response{}, fmt.Errorf("%s: %w", c.name, ErrClosed)
			default:
			}
			return Response{}, fmt.Errorf("%s: write: %w", c.name, err)
		}
	}

	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-c.done:
	case <-timer.C:
		if m.abandon(c) {
			m.log.Warn("at command timed out", "cmd", c.name, "timeout", d)
			return Response{}, fmt.Errorf("%s: no answer within %s: %w", c.name, d, ErrTimeout)
		}
	case <-ctx.Done():
		if m.abandon(c) {
			return Response{}, fmt.Errorf("%s: %w", c.name, ctx.Err())
		}
	case <-m.closing:
		if m.abandon(c) {
			return Response{}, fmt.Errorf("%s: %w", c.name, ErrClosed)
		}
	}
	<-c.done
	if c.err != nil {
		return Response{}, fmt.Errorf("%s: %w", c.name, c.err)
	}
	return c.result()
}

// abandon stops waiting for c. It returns false when c completed meanwhile
// (its result is then valid).
func (m *Modem) abandon(c *call) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur != c {
		return false
	}
	m.cur = nil
	return true
}

func (c *call) result() (Response, error) {
	r := Response{Lines: c.lines, Final: c.final}
	switch f := c.final; {
	case f == "OK":
		return r, nil
	case f == "ERROR":
		return r, fmt.Errorf("%s: %w", c.name, ErrError)
	case strings.HasPrefix(f, "+CME ERROR:"):
		return r, parseCME(c.name, strings.TrimSpace(f[len("+CME ERROR:"):]))
	case strings.HasPrefix(f, "+CMS ERROR:"):
		text := strings.TrimSpace(f[len("+CMS ERROR:"):])
		if n, err := strconv.Atoi(text); err == nil {
			return r, &CMSError{Code: n, Command: c.name}
		}
		return r, &CMSError{Code: -1, Text: text, Command: c.name}
	default:
		return r, &ResultError{Command: c.name, Result: f}
	}
}

func parseCME(name, text string) *CMEError {
	if n, err := strconv.Atoi(text); err == nil {
		t := cmeName(n)
		if t == "" {
			t = "vendor-specific"
		}
		return &CMEError{Code: n, Text: t, Command: name}
	}
	return &CMEError{Code: cmeCode(text), Text: text, Command: name}
}

// finalKind classifies final result codes: 'e' for the ones that only
// answer a command (OK, ERROR, +CME/+CMS ERROR), 'c' for call results
// (which also arrive unsolicited), 0 for other lines.
func finalKind(line string) byte {
	switch line {
	case "OK", "ERROR":
		return 'e'
	case "NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE":
		return 'c'
	}
	if strings.HasPrefix(line, "+CME ERROR:") || strings.HasPrefix(line, "+CMS ERROR:") {
		return 'e'
	}
	return 0
}

// urcPrefixes are the unsolicited result codes of 27.007/27.005 and common
// vendor ones. Any line starting with '^' is also taken as a URC.
var urcPrefixes = []string{
	"+CREG:", "+CGREG:", "+CEREG:", "+C5GREG:", "+CPIN:", "+CRING:", "+CMTI:", "+CMT:",
	"+CDSI:", "+CDS:", "+CBMI:", "+CBM:", "+CGEV:", "+CUSD:", "+CIEV:", "+CTZV:", "+CTZE:",
	"+CLIP:", "+CCWA:", "+CSSI:", "+CSSU:", "+CUSATP:", "+CUSATEND", "+STKPCI:",
	"+QSIMSTAT:", "+QIND:", "+QUSIM:",
}

// twoLineURCs are followed by a second line (the PDU) that belongs to them.
var twoLineURCs = []string{"+CMT:", "+CDS:", "+CBM:"}

func isKnownURC(line string) bool {
	if line == "RING" || strings.HasPrefix(line, "^") {
		return true
	}
	for _, p := range urcPrefixes {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

func isRegPrefix(p string) bool {
	switch p {
	case "+CREG", "+CGREG", "+CEREG", "+C5GREG":
		return true
	}
	return false
}

// isURC decides whether line, arriving while c is in flight, is unsolicited.
func (c *call) isURC(line string) bool {
	if c.prefix != "" && strings.HasPrefix(line, c.prefix+":") {
		switch {
		case c.kind == 't':
			return false
		case c.kind == '?' && isRegPrefix(c.prefix):
			return regURCForm(splitFields(strings.TrimSpace(line[len(c.prefix)+1:])))
		case c.kind == '=' && isKnownURC(line):
			// a set command (AT+CEREG=2, AT+CPIN="1234") has no
			// information lines of its own
			return true
		}
		return false
	}
	return isKnownURC(line)
}

// handleLine routes one received line; called by the reader only.
func (m *Modem) handleLine(line string, garbage int) {
	if garbage > 0 {
		m.log.Debug("discarded non-printable bytes from the modem", "bytes", garbage)
	}
	if line == "" {
		return
	}
	m.trace("<", line)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.urcFollow {
		m.urcFollow = false
		m.deliverURC(line)
		return
	}
	c := m.cur
	if c == nil {
		if finalKind(line) == 'e' {
			m.log.Debug("dropped a final result with no command in flight (late answer)", "line", truncate(line))
			return
		}
		m.urc(line)
		return
	}
	if !c.echoSeen && strings.EqualFold(line, strings.TrimSpace(c.cmd)) {
		c.echoSeen = true
		return
	}
	if finalKind(line) != 0 {
		c.final = line
		m.cur = nil
		close(c.done)
		return
	}
	if c.isURC(line) {
		m.urc(line)
		return
	}
	c.lines = append(c.lines, line)
}

// urc handles an unsolicited line; m.mu is held.
func (m *Modem) urc(line string) {
	if strings.HasPrefix(line, "+CPIN:") {
		m.simEpoch.Add(1)
		m.log.Info("SIM state changed", "state", strings.TrimSpace(line[len("+CPIN:"):]))
	}
	for _, p := range twoLineURCs {
		if strings.HasPrefix(line, p) {
			m.urcFollow = true
		}
	}
	m.deliverURC(line)
}

func (m *Modem) deliverURC(line string) {
	select {
	case m.urcs <- line:
	default:
		n := m.urcDropped.Add(1)
		if n == 1 || n%100 == 0 {
			m.log.Warn("URC buffer full, dropping unsolicited lines", "dropped", n, "line", truncate(line))
		}
	}
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// reader is the only goroutine that reads the port.
func (m *Modem) reader() {
	defer close(m.readerDone)
	sp := newLineSplitter(maxLineLen)
	buf := make([]byte, 4096)
	var err error
	for {
		var n int
		n, err = m.port.Read(buf)
		if n > 0 {
			sp.feed(buf[:n], m.handleLine)
		}
		if err != nil {
			break
		}
	}
	dead := ErrClosed
	select {
	case <-m.closing:
	default:
		m.log.Error("modem port failed", "err", err)
		dead = fmt.Errorf("%w: %w", ErrClosed, err)
	}
	m.mu.Lock()
	m.dead = dead
	if c := m.cur; c != nil {
		m.cur = nil
		c.err = dead
		close(c.done)
	}
	close(m.urcs)
	m.mu.Unlock()
}

// Close closes the port, which stops the reader and fails the command in
// flight with ErrClosed. Channels opened by OpenChannel should be closed
// before. Close is idempotent.
func (m *Modem) Close() error {
	m.closeOnce.Do(func() {
		close(m.closing)
		m.closeErr = m.port.Close()
		t := time.NewTimer(closeWait + readTimeout)
		defer t.Stop()
		select {
		case <-m.readerDone:
		case <-t.C:
			m.log.Warn("modem reader did not stop after closing the port")
		}
	})
	return m.closeErr
}

func (m *Modem) trace(dir, line string) {
	if m.cfg.Trace == nil {
		return
	}
	m.traceMu.Lock()
	defer m.traceMu.Unlock()
	fmt.Fprintf(m.cfg.Trace, "%s %s %s\n", time.Now().UTC().Format("15:04:05.000"), dir, line)
}
