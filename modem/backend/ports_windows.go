package backend

import (
	"context"
	"fmt"

	"go.bug.st/serial/enumerator"
)

// SerialPorts lists the serial ports that may be a modem's AT port, in
// the order auto-selection tries them: on Windows the COM ports
// (go.bug.st/serial's enumerator), USB ones first, in numeric order.
func SerialPorts(ctx context.Context) ([]string, error) {
	ds, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, fmt.Errorf("backend: list the serial ports: %w", err)
	}
	var usb, other []string
	for _, d := range ds {
		if d.IsUSB {
			usb = append(usb, d.Name)
		} else {
			other = append(other, d.Name)
		}
	}
	return append(orderPorts(usb), orderPorts(other)...), ctx.Err()
}
