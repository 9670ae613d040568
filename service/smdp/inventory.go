package smdp

import (
	"context"
	"fmt"

	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/saip"
)

// ensureInventory generates the profile inventory when the database holds
// no profile yet (first start). Each profile gets a fresh random Ki and OPc,
// which exist only inside its stored profile package.
func (s *Server) ensureInventory(ctx context.Context) error {
	n, err := s.db.countProfiles(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.Debug("inventory present", "profiles", n)
		return nil
	}
	rows := make([]profileRow, 0, s.cfg.InventorySize)
	for i := 1; i <= s.cfg.InventorySize; i++ {
		iccid, err := makeICCID(s.cfg.ICCIDPrefix, i)
		if err != nil {
			return err
		}
		imsi, err := makeIMSI(s.cfg.MCCMNC, i)
		if err != nil {
			return err
		}
		upp, err := saip.Build(saip.Spec{
			ICCID:       rsp.ICCID(iccid),
			IMSI:        imsi,
			MCCMNC:      s.cfg.MCCMNC,
			SPN:         s.cfg.SPN,
			ProfileName: s.cfg.ProfileName,
			Ki:          randomBytes(16),
			OPc:         randomBytes(16),
			Filler:      s.cfg.ProfileFiller,
		})
		if err != nil {
			return fmt.Errorf("smdp: build profile %s: %w", iccid, err)
		}
		rows = append(rows, profileRow{
			ICCID:       iccid,
			IMSI:        imsi,
			MCCMNC:      s.cfg.MCCMNC,
			SPN:         s.cfg.SPN,
			Name:        s.cfg.ProfileName,
			ProfileType: s.cfg.ProfileType,
			UPP:         upp,
		})
	}
	if err := s.db.insertProfiles(ctx, rows, s.now()); err != nil {
		return err
	}
	s.log.Info("generated profile inventory", "profiles", len(rows), "profileType", s.cfg.ProfileType,
		"mccmnc", s.cfg.MCCMNC)
	return nil
}

// metadata returns the StoreMetadataRequest (BF25) of a profile: ICCID,
// SPN, name, the owner's MCC/MNC, and notifications for install, enable,
// disable and delete sent to this SM-DP+.
func (s *Server) metadata(p profileRow) ([]byte, error) {
	plmn, err := encodePLMN(p.MCCMNC)
	if err != nil {
		return nil, err
	}
	var nc []rsp.NotificationConfig
	for _, ev := range []rsp.NotificationEvent{rsp.EventInstall, rsp.EventEnable, rsp.EventDisable, rsp.EventDelete} {
		nc = append(nc, rsp.NotificationConfig{Event: ev, Address: s.cfg.Address})
	}
	m := rsp.StoreMetadataRequest{
		ICCID:               rsp.ICCID(p.ICCID),
		ServiceProviderName: p.SPN,
		ProfileName:         p.Name,
		NotificationConfig:  nc,
		ProfileOwner:        &rsp.ProfileOwner{MCCMNC: plmn},
	}
	return m.Bytes(), nil
}
