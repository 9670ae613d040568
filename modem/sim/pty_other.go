//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package sim

import (
	"context"
	"errors"
	"fmt"
)

// ServePTY is only available on Linux, macOS and the BSDs; elsewhere it
// returns an error wrapping errors.ErrUnsupported. Use Serve with another
// transport instead.
func (m *Modem) ServePTY(ctx context.Context) (path string, err error) {
	return "", fmt.Errorf("sim: pseudo-terminals: %w", errors.ErrUnsupported)
}

// Wait returns at once: without ServePTY there is nothing to wait for.
func (m *Modem) Wait() error {
	m.ptyWG.Wait()
	return nil
}
