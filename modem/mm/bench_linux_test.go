package mm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mobileplans/mobileplans/esim/apdu"
	"github.com/mobileplans/mobileplans/modem/mm"
	"github.com/mobileplans/mobileplans/modem/mm/mmtest"
)

// BenchmarkTransmit measures one APDU round trip to the simulated eUICC
// through ModemManager: through Modem.Command (--debug) and through the
// inhibited device's AT port, each with a short command (GET EID) and a
// full 255-byte STORE DATA block.
//
// Besides the time it reports what reached the modem per APDU: the
// characters of the AT+CGLA line (chars/op, the same on both paths), the
// time per character (ns/char), and the reads the modem's port needed for
// them (port-reads/op). ModemManager writes a command to a tty one byte
// at a time, send-delay apart (see the package documentation), so over
// Modem.Command port-reads/op is about chars/op and the time grows with
// the length of the line; modem/at writes the line at once.
func BenchmarkTransmit(b *testing.B) {
	getEID := []byte{0x80, 0xE2, 0x91, 0x00, 0x06, 0xBF, 0x3E, 0x03, 0x5C, 0x01, 0x5A}
	// A 255-byte block of an unknown ES10 request: the card refuses it,
	// which costs the same transport.
	block := append([]byte{0x80, 0xE2, 0x91, 0x00, 0xFF, 0xBF, 0x7F, 0x81, 0xFB}, make([]byte, 251)...)
	for _, mode := range []struct {
		name    string
		noDebug bool
	}{{"command", false}, {"inhibit", true}} {
		b.Run(mode.name, func(b *testing.B) {
			env := mmtest.New(b, mmtest.Options{NoDebug: mode.noDebug})
			ctx := context.Background()
			m, err := mm.Open(ctx, env.Conn(b), env.IMEI, mm.Options{AT: atConfig()})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			ch, err := m.OpenChannel(ctx, apdu.ISDR)
			if err != nil {
				b.Fatal(err)
			}
			defer ch.Close()
			for _, c := range []struct {
				name string
				cmd  []byte
			}{{"get-eid", getEID}, {"block-255", block}} {
				b.Run(c.name, func(b *testing.B) {
					cmds := env.CommandCount()
					reads, _ := env.PortInput()
					for b.Loop() {
						if _, err := ch.Transmit(ctx, c.cmd); err != nil {
							b.Fatal(err)
						}
					}
					n, chars := cglaLines(env.SIM.Commands()[cmds:])
					if n != b.N {
						b.Fatalf("%d APDUs reached the modem as %d AT+CGLA lines", b.N, n)
					}
					after, _ := env.PortInput()
					b.ReportMetric(float64(chars)/float64(b.N), "chars/op")
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(chars), "ns/char")
					b.ReportMetric(float64(after-reads)/float64(b.N), "port-reads/op")
				})
			}
		})
	}
}

// cglaLines counts the AT+CGLA command lines among cmds (as the simulated
// modem recorded them) and the characters they took on the wire, each
// with its terminating CR.
func cglaLines(cmds []string) (n, chars int) {
	for _, c := range cmds {
		if strings.HasPrefix(strings.ToUpper(c), "AT+CGLA=") {
			n++
			chars += len(c) + 1
		}
	}
	return n, chars
}
