package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
)

// maxLine is the longest command line the modem accepts (a +CGLA with a
// 255-byte STORE DATA block needs about 540 characters).
const maxLine = 8192

// port is the per-connection state of one AT port: result code format and
// the URC modes. All fields but urc are guarded by Modem.mu.
type port struct {
	echo       bool
	verbose    bool // ATV1: text result codes
	quiet      bool // ATQ1: no result codes
	cmee       int
	cscs       string
	copsFormat int
	regN       [3]int // +CREG, +CGREG, +CEREG URC modes
	cgerep     int
	cmgf       int
	cpms       [3]string
	cnmi       string
	ws46       int
	sregs      map[int]int

	urc chan string
}

func newPort() *port {
	p := &port{urc: make(chan string, defaultURCQueueDepth)}
	p.reset()
	return p
}

// reset restores the factory settings (ATZ, AT&F).
func (p *port) reset() {
	p.echo, p.verbose, p.quiet = true, true, false
	p.cmee = 0
	p.cscs = "IRA"
	p.copsFormat = 0
	p.regN = [3]int{}
	p.cgerep = 0
	p.cmgf = 0
	p.cpms = [3]string{"ME", "ME", "ME"}
	p.cnmi = "0,0,0,0,0"
	p.ws46 = 25
	p.sregs = map[int]int{3: 13, 4: 10, 5: 8}
}

// status is the kind of final result code.
type status int

const (
	statusOK status = iota
	statusError
	statusCME
)

// reply is the outcome of one command (or one command line).
type reply struct {
	lines  []string
	status status
	cme    int
}

func ok(lines ...string) reply { return reply{lines: lines} }
func errorReply() reply        { return reply{status: statusError} }
func cme(n int) reply          { return reply{status: statusCME, cme: n} }

// finalText is the final result code as the port currently formats it
// ("" when ATQ1 suppresses it).
func (p *port) finalText(r reply) string {
	if p.quiet {
		return ""
	}
	switch {
	case r.status == statusCME && p.cmee == 1:
		return fmt.Sprintf("+CME ERROR: %d", r.cme)
	case r.status == statusCME && p.cmee == 2:
		return "+CME ERROR: " + cmeText(r.cme)
	case r.status == statusOK && p.verbose:
		return "OK"
	case r.status == statusOK:
		return "0"
	case p.verbose:
		return "ERROR"
	default:
		return "4"
	}
}

// frame renders info lines and the final result code (27.007 / V.250
// framing: "\r\n<text>\r\n" with ATV1, "<text>\r\n" and "<code>\r" with ATV0).
func (p *port) frame(r reply) (out []byte, logged []string) {
	var b bytes.Buffer
	for _, l := range r.lines {
		b.WriteString(p.frameLine(l))
		logged = append(logged, l)
	}
	final := p.finalText(r)
	if final == "" {
		return b.Bytes(), logged
	}
	logged = append(logged, final)
	switch {
	case p.verbose:
		b.WriteString("\r\n" + final + "\r\n")
	case r.status == statusCME && p.cmee != 0:
		b.WriteString(final + "\r\n")
	default:
		b.WriteString(final + "\r")
	}
	return b.Bytes(), logged
}

func (p *port) frameLine(l string) string {
	if p.verbose {
		return "\r\n" + l + "\r\n"
	}
	return l + "\r\n"
}

type readResult struct {
	data []byte
	err  error
}

// Serve interprets AT commands read from rw and writes the replies (and
// URCs) back, until ctx is done (it returns ctx.Err()) or rw reports EOF (it
// returns nil). Each call is one AT port with factory settings (echo on,
// verbose result codes, +CMEE=0). When rw has a SetDeadline method (net.Conn,
// *os.File of a pty) cancelling ctx interrupts a blocked read or write;
// otherwise the caller should close rw after Serve returns.
func (m *Modem) Serve(ctx context.Context, rw io.ReadWriter) error {
	p := newPort()
	m.mu.Lock()
	m.ports[p] = struct{}{}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.ports, p)
		m.mu.Unlock()
	}()

	if d, ok := rw.(interface{ SetDeadline(time.Time) error }); ok {
		stop := context.AfterFunc(ctx, func() { _ = d.SetDeadline(time.Now()) })
		defer stop()
	}

	done := make(chan struct{})
	defer close(done)
	in := make(chan readResult)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := rw.Read(buf)
			r := readResult{data: bytes.Clone(buf[:n]), err: err}
			select {
			case in <- r:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()

	var lb lineBuffer
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case u := <-p.urc:
			if err := m.writeURC(p, rw, u); err != nil {
				return m.ioError(ctx, "write", err)
			}
		case r := <-in:
			for _, l := range lb.feed(r.data) {
				if err := m.handleLine(ctx, p, rw, l); err != nil {
					return m.ioError(ctx, "write", err)
				}
			}
			if dropped := lb.takeDropped(); dropped > 0 {
				m.trace(">", fmt.Sprintf("(%d bytes of binary data dropped)", dropped))
			}
			if r.err != nil {
				if errors.Is(r.err, io.EOF) {
					return nil
				}
				return m.ioError(ctx, "read", r.err)
			}
		}
	}
}

func (m *Modem) ioError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("sim: %s: %w", op, err)
}

func (m *Modem) writeURC(p *port, w io.Writer, line string) error {
	m.mu.Lock()
	b := p.frameLine(line)
	m.mu.Unlock()
	m.trace("<", line)
	_, err := io.WriteString(w, b)
	return err
}

// handleLine runs one command line: log, echo, execute, delay, reply.
func (m *Modem) handleLine(ctx context.Context, p *port, w io.Writer, l inputLine) error {
	if l.tooLong {
		m.recordCommand(l.text)
		m.trace(">", l.text+" (line too long)")
		m.mu.Lock()
		out, logged := p.frame(errorReply())
		m.mu.Unlock()
		return m.writeReply(ctx, w, out, logged)
	}
	text := strings.TrimSpace(l.text)
	if len(text) < 2 || !strings.EqualFold(text[:2], "AT") {
		m.trace(">", fmt.Sprintf("(ignored) %q", l.text))
		return nil
	}
	m.recordCommand(text)
	if m.drop.Load() {
		m.trace(">", text+" (dropped)")
		return nil
	}
	m.trace(">", text)

	m.mu.Lock()
	echo := p.echo
	m.mu.Unlock()
	if echo {
		if _, err := io.WriteString(w, l.text+"\r"); err != nil {
			return err
		}
	}

	m.mu.Lock()
	r := m.execLineLocked(p, text[2:])
	out, logged := p.frame(r)
	m.mu.Unlock()
	return m.writeReply(ctx, w, out, logged)
}

func (m *Modem) writeReply(ctx context.Context, w io.Writer, out []byte, logged []string) error {
	if err := sleepCtx(ctx, time.Duration(m.delay.Load())); err != nil {
		return err
	}
	if m.garbage.Load() {
		g := garbageBytes()
		m.trace("<", fmt.Sprintf("(garbage %X)", g))
		out = append(g, out...)
	}
	for _, l := range logged {
		m.trace("<", l)
	}
	_, err := w.Write(out)
	return err
}

// garbageBytes returns 1 to 8 random bytes that are neither printable ASCII
// nor CR/LF.
func garbageBytes() []byte {
	g := make([]byte, 1+rand.IntN(8))
	for i := range g {
		for {
			b := byte(rand.IntN(256))
			if (b < 0x20 || b >= 0x7F) && b != '\r' && b != '\n' {
				g[i] = b
				break
			}
		}
	}
	return g
}

type inputLine struct {
	text    string
	tooLong bool
}

// lineBuffer splits the input stream into command lines terminated by CR or
// LF (so CR LF works too); empty lines are skipped. Pending bytes without a
// terminator that contain 0x7E and do not start with "A" (a binary QCDM
// probe) are discarded, as are lines longer than maxLine.
type lineBuffer struct {
	buf      []byte
	tooLong  bool
	tooLongN int
	dropped  int
}

func (lb *lineBuffer) feed(data []byte) []inputLine {
	var out []inputLine
	for _, c := range data {
		if c == '\r' || c == '\n' {
			switch {
			case lb.tooLong:
				prefix := string(lb.buf[:min(len(lb.buf), 16)])
				out = append(out, inputLine{text: fmt.Sprintf("%s... (%d bytes)", prefix, lb.tooLongN), tooLong: true})
			case len(lb.buf) > 0:
				out = append(out, inputLine{text: string(lb.buf)})
			}
			lb.buf, lb.tooLong, lb.tooLongN = lb.buf[:0], false, 0
			continue
		}
		if lb.tooLong {
			lb.tooLongN++
			continue
		}
		if len(lb.buf) >= maxLine {
			lb.tooLong, lb.tooLongN = true, len(lb.buf)+1
			continue
		}
		lb.buf = append(lb.buf, c)
	}
	if len(lb.buf) > 0 && lb.buf[0] != 'A' && lb.buf[0] != 'a' && bytes.IndexByte(lb.buf, 0x7E) >= 0 {
		lb.dropped += len(lb.buf)
		lb.buf = lb.buf[:0]
	}
	return out
}

func (lb *lineBuffer) takeDropped() int {
	n := lb.dropped
	lb.dropped = 0
	return n
}
