package simcard

import (
	"github.com/mobileplans/mobileplans/esim/euicc"
	"github.com/mobileplans/mobileplans/modem/sim"
)

// Card adapts *euicc.Card to sim.Card.
type Card struct{ *euicc.Card }

// New returns the adapter for c.
func New(c *euicc.Card) Card { return Card{c} }

// Active reports the enabled profile in the modem's terms.
func (c Card) Active() (sim.ActiveProfile, bool) {
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

var _ sim.Card = Card{}
