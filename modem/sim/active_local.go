package sim

// ActiveProfile is the identity of the enabled profile as the card reports it.
type ActiveProfile struct {
	ICCID       string
	IMSI        string
	MCCMNC      string
	SPN         string
	ProfileName string
}
