package smdp

import (
	"context"
	"time"
)

// Profile is a profile of the inventory with the state of its order, as
// reported by Server.Profile and Server.Profiles. The confirmation code is
// never stored; CCRequired tells whether the order has one.
type Profile struct {
	ICCID       string
	IMSI        string
	MCCMNC      string
	SPN         string
	Name        string
	ProfileType string
	State       State
	// EID is the EID the order is bound to by ES2+ (empty: any eUICC).
	EID string
	// DeviceEID is the eUICC the package was delivered to or installed on.
	DeviceEID   string
	MatchingID  string
	CCRequired  bool
	CCAttempts  int
	SMDSAddress string
	ErrorReason string
	Created     time.Time
	Updated     time.Time
}

func publicProfile(p profileRow) Profile {
	return Profile{
		ICCID: p.ICCID, IMSI: p.IMSI, MCCMNC: p.MCCMNC, SPN: p.SPN, Name: p.Name, ProfileType: p.ProfileType,
		State: p.State, EID: p.EID, DeviceEID: p.DeviceEID, MatchingID: p.MatchingID, CCRequired: p.CCHash != nil,
		CCAttempts: p.CCAttempts, SMDSAddress: p.SMDSAddress, ErrorReason: p.ErrorReason,
		Created: p.Created, Updated: p.Updated,
	}
}

// Profile returns the profile with that ICCID; errors wrap ErrNotFound.
func (s *Server) Profile(ctx context.Context, iccid string) (Profile, error) {
	p, err := s.db.profile(ctx, s.db.db, iccid)
	if err != nil {
		return Profile{}, err
	}
	return publicProfile(p), nil
}

// Profiles returns the whole inventory ordered by ICCID.
func (s *Server) Profiles(ctx context.Context) ([]Profile, error) {
	rows, err := s.db.listProfiles(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Profile, 0, len(rows))
	for _, r := range rows {
		out = append(out, publicProfile(r))
	}
	return out, nil
}

// Notification is a notification received on ES9+.HandleNotification.
type Notification struct {
	Received time.Time
	// Kind is "install" for a ProfileInstallationResult, "other" for an
	// OtherSignedNotification.
	Kind     string
	Event    string // install, enable, disable, delete
	Seq      int
	TxID     string // install results only
	ICCID    string
	EID      string
	Verified bool   // signature (and for "other" the certificate chain) verified
	Result   string // "success", the installation error, "ok", or why it was not verified
	Raw      []byte // the pendingNotification TLV
}

// Notifications returns the received notifications, oldest first.
func (s *Server) Notifications(ctx context.Context) ([]Notification, error) {
	rows, err := s.db.listNotifications(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Notification, 0, len(rows))
	for _, n := range rows {
		out = append(out, Notification{
			Received: n.Received, Kind: n.Kind, Event: n.Event, Seq: n.Seq, TxID: n.TxID, ICCID: n.ICCID,
			EID: n.EID, Verified: n.Verified, Result: n.Result, Raw: n.Raw,
		})
	}
	return out, nil
}
