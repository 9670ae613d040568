package mm

import (
	"context"
	"fmt"

	"github.com/godbus/dbus/v5"
)

// SystemBus connects to the system bus, where ModemManager lives
// (DBUS_SYSTEM_BUS_ADDRESS overrides the default socket). The caller
// closes the connection.
func SystemBus(ctx context.Context) (*dbus.Conn, error) {
	conn, err := dbus.ConnectSystemBus(dbus.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("mm: connect to the system bus: %w", err)
	}
	return conn, nil
}
