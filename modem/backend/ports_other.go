//go:build !linux && !windows

package backend

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"go.bug.st/serial"
)

// SerialPorts lists the serial ports that may be a modem's AT port, in
// the order auto-selection tries them: on macOS and the BSDs the ports
// go.bug.st/serial finds, the call-out devices (/dev/cu.*) only where
// there are both, without the Bluetooth and debug consoles.
func SerialPorts(ctx context.Context) ([]string, error) {
	ps, err := serial.GetPortsList()
	if err != nil {
		return nil, fmt.Errorf("backend: list the serial ports: %w", err)
	}
	hasCU := false
	for _, p := range ps {
		if strings.HasPrefix(filepath.Base(p), "cu.") {
			hasCU = true
		}
	}
	var out []string
	for _, p := range ps {
		base := filepath.Base(p)
		switch {
		case hasCU && strings.HasPrefix(base, "tty."),
			strings.Contains(base, "Bluetooth"), strings.Contains(base, "debug-console"):
			continue
		}
		out = append(out, p)
	}
	return orderPorts(out), ctx.Err()
}
