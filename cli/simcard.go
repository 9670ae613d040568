package cli

import (
	"github.com/mobileplans/mobileplans/esim/euicc"
	"github.com/mobileplans/mobileplans/modem/sim"
)

// simCard adapts the simulated eUICC to the simulated modem's Card
// interface; the two packages stay independent of each other.
type simCard struct{ *euicc.Card }

func (c simCard) Active() (sim.ActiveProfile, bool) {
	a, ok := c.Card.Active()
	if !ok {
		return sim.ActiveProfile{}, false
	}
	return sim.ActiveProfile{
		ICCID:       string(a.ICCID),
		IMSI:        a.IMSI,
		MCCMNC:      a.MCCMNC,
		SPN:         a.SPN,
		ProfileName: a.ProfileName,
	}, true
}
