//go:build !linux

package mm

import (
	"context"

	"github.com/godbus/dbus/v5"
)

// SystemBus fails with ErrUnsupported: ModemManager only exists on Linux.
func SystemBus(ctx context.Context) (*dbus.Conn, error) {
	return nil, ErrUnsupported
}
