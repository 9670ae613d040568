package sim

// Card is the simulated eUICC behind the modem; *euicc.Card implements it.
//
// Transmit takes one command APDU and returns the full response including
// the status word; the card handles MANAGE CHANNEL, SELECT, STORE DATA and
// GET RESPONSE itself. Reset closes the card's logical channels. Active
// reports the enabled profile. The hook given to SetResetHook is called
// whenever the card resets itself (for example after enabling a profile with
// refresh); it may be called from inside Transmit and must not call back
// into the card.
type Card interface {
	Transmit(command []byte) []byte
	Reset()
	ATR() []byte
	Active() (ActiveProfile, bool)
	SetResetHook(func())
}
