//go:build !linux

package mmtest

import "testing"

// Env is the harness; it only runs on Linux.
type Env struct{}

// New skips the test: ModemManager is Linux-only.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	t.Skip("mmtest: ModemManager is Linux-only")
	return nil
}
