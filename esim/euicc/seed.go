package euicc

import (
	"fmt"
	"io"

	"github.com/mobileplans/mobileplans/esim/rsp"
)

// seedNotificationAddress is where the seeded profiles' notifications go.
const seedNotificationAddress = "smdp.mobileplans.test"

// defaultRootDSAddress is the root SM-DS address of a new card. The
// simulator points it at the test domain rather than a production SM-DS.
const defaultRootDSAddress = "smds.mobileplans.test"

// seedProfile describes one of the test profiles a new card starts with.
type seedProfile struct {
	iccidBody string // ICCID without the Luhn check digit
	spn, name string
	imsi      string
	mcc, mnc  string
	enabled   bool
}

// seedProfiles returns the operational profiles on the test networks 001-01
// and 001-02 that a seeded card starts with; the first one is enabled.
func seedProfiles() []seedProfile {
	return []seedProfile{
		{
			iccidBody: "8944476500001234567",
			spn:       "Contoso Cellular Test",
			name:      "Contoso Cellular Test Profile",
			imsi:      "001010123456789",
			mcc:       "001",
			mnc:       "01",
			enabled:   true,
		},
		{
			iccidBody: "8944476500007654321",
			spn:       "Fabrikam Mobile Test",
			name:      "Fabrikam Mobile Test Profile",
			imsi:      "001020987654321",
			mcc:       "001",
			mnc:       "02",
		},
	}
}

// luhnDigit returns the Luhn check digit for a string of decimal digits
// (ITU-T E.118 ICCID check digit).
func luhnDigit(digits string) byte {
	sum := 0
	double := true // the digit next to the check digit is doubled
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

// luhnValid reports whether a digit string ends in a correct Luhn digit.
func luhnValid(digits string) bool {
	if len(digits) < 2 {
		return false
	}
	return luhnDigit(digits[:len(digits)-1]) == digits[len(digits)-1]
}

// encodePLMN encodes MCC and MNC digits as the 3-byte PLMN identity of
// 3GPP TS 24.008 (MCC2 MCC1 | MNC3 MCC3 | MNC2 MNC1, F for a 2-digit MNC),
// the coding of ProfileOwner.mccMnc.
func encodePLMN(mcc, mnc string) ([]byte, error) {
	if len(mcc) != 3 || (len(mnc) != 2 && len(mnc) != 3) {
		return nil, fmt.Errorf("euicc: MCC %q / MNC %q: want 3 and 2-3 digits", mcc, mnc)
	}
	d := func(s string, i int) (byte, error) {
		if i >= len(s) {
			return 0xF, nil
		}
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("euicc: %q is not numeric", s)
		}
		return s[i] - '0', nil
	}
	var n [6]byte
	var err error
	for i, p := range [6]struct {
		s string
		i int
	}{{mcc, 0}, {mcc, 1}, {mcc, 2}, {mnc, 0}, {mnc, 1}, {mnc, 2}} {
		if n[i], err = d(p.s, p.i); err != nil {
			return nil, err
		}
	}
	return []byte{n[1]<<4 | n[0], n[5]<<4 | n[2], n[4]<<4 | n[3]}, nil
}

// newEID returns a fresh random EID in the test EUM's range.
func newEID(r io.Reader) (rsp.EID, error) {
	serial := make([]byte, 10)
	if _, err := io.ReadFull(r, serial); err != nil {
		return "", fmt.Errorf("euicc: random EID: %w", err)
	}
	return rsp.NewEID(testEIN, serial)
}

// newState returns the state of a factory-fresh card with the given EID,
// holding the seeded profiles when seed is set.
func newState(eid rsp.EID, seed bool) (*state, error) {
	s := &state{
		Version:       stateVersion,
		EID:           string(eid),
		RootDSAddress: defaultRootDSAddress,
		Profiles:      []storedProfile{},
		Notifications: []storedNotification{},
		NextSeq:       1,
		NextISDP:      firstISDP,
	}
	if !seed {
		return s, nil
	}
	for _, sp := range seedProfiles() {
		iccid := sp.iccidBody + string(luhnDigit(sp.iccidBody))
		aid, err := s.allocISDP()
		if err != nil {
			return nil, err
		}
		p := storedProfile{
			ICCID:               iccid,
			ISDPAID:             aid,
			Enabled:             sp.enabled,
			ServiceProviderName: sp.spn,
			ProfileName:         sp.name,
			Class:               int(rsp.ProfileClassOperational),
			IMSI:                sp.imsi,
			MCCMNC:              sp.mcc + sp.mnc,
			Preloaded:           true,
		}
		plmn, err := encodePLMN(sp.mcc, sp.mnc)
		if err != nil {
			return nil, err
		}
		p.Owner = &storedOwner{MCCMNC: plmn}
		// One configuration entry per event, each pointing at the test SM-DP+.
		for _, ev := range []rsp.NotificationEvent{rsp.EventEnable, rsp.EventDisable, rsp.EventDelete} {
			p.NotificationConfig = append(p.NotificationConfig, storedNotificationConfig{Events: uint8(ev), Address: seedNotificationAddress})
		}
		s.Profiles = append(s.Profiles, p)
	}
	return s, nil
}
