package backend

import (
	"github.com/mobileplans/mobileplans/modem"
	"github.com/mobileplans/mobileplans/modem/at"
)

// AT is a modem driven with AT commands on a serial port (modem/at). It
// has no Refresh and no Connect: after a profile switch it relies on the
// card's own refresh, and bringing up a data connection on a bare serial
// port is the operating system's job.
type AT struct {
	*at.Modem
	port string
}

var _ modem.Modem = (*AT)(nil)

// Spec is the spec that opens this modem again.
func (a *AT) Spec() Spec { return Spec{Kind: KindAT, Port: a.port} }
