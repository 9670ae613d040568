package at

import (
	"context"
	"fmt"

	"go.bug.st/serial"
)

// go.bug.st/serial's ports are what Open hands to New.
var _ Port = serial.Port(nil)

// Open opens the serial port cfg.Device (raw, 8N1, no flow control) and
// returns the initialised modem on it (see New).
func Open(ctx context.Context, cfg Config) (*Modem, error) {
	if cfg.Device == "" {
		return nil, fmt.Errorf("at: no serial device given")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p, err := serial.Open(cfg.Device, &serial.Mode{
		BaudRate: cfg.Baud,
		DataBits: 8,
		Parity:   serial.NoParity,
		StopBits: serial.OneStopBit,
	})
	if err != nil {
		return nil, fmt.Errorf("at: open %s: %w", cfg.Device, err)
	}
	// Bytes the modem sent before we opened the port belong to nobody.
	if err := p.ResetInputBuffer(); err != nil {
		cfg.Logger.Debug("could not flush the serial input buffer", "err", err)
	}
	m, err := New(ctx, p, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Device, err)
	}
	return m, nil
}
