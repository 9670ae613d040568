package backend

import (
	"context"
	"path/filepath"
)

// portPatterns are where Linux puts modems' AT ports: the kernel WWAN
// subsystem's AT ports, CDC-ACM and USB serial ttys.
var portPatterns = [...]string{"/dev/wwan*at*", "/dev/ttyACM*", "/dev/ttyUSB*"}

// SerialPorts lists the serial ports that may be a modem's AT port, in
// the order auto-selection tries them: on Linux /dev/wwan*at*,
// /dev/ttyACM*, /dev/ttyUSB* (numbers in numeric order).
func SerialPorts(ctx context.Context) ([]string, error) {
	var out []string
	for _, p := range portPatterns {
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	return orderPorts(out), ctx.Err()
}
