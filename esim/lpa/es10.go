package lpa

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/tlv"
)

// ChallengeLen is the size of the eUICC challenge (GetEUICCChallenge).
const ChallengeLen = 16

// exchange sends one encoded ES10 request and decodes the response.
func exchange[T any](ctx context.Context, c *Client, tag tlv.Tag, req []byte, decode func([]byte) (T, error)) (T, error) {
	var zero T
	b, err := c.call(ctx, tag, req)
	if err != nil {
		return zero, err
	}
	v, err := decode(b)
	if err != nil {
		return zero, fmt.Errorf("%s: decode response: %w", functionName(tag), err)
	}
	return v, nil
}

// EID returns the eUICC identifier (ES10c.GetEID).
func (c *Client) EID(ctx context.Context) (rsp.EID, error) {
	r, err := exchange(ctx, c, rsp.TagGetEID, rsp.GetEIDRequest{}.Encode(), rsp.DecodeGetEIDResponse)
	return r.EID, err
}

// EUICCInfo1 returns ES10b.GetEUICCInfo1.
func (c *Client) EUICCInfo1(ctx context.Context) (rsp.EUICCInfo1, error) {
	return exchange(ctx, c, rsp.TagEUICCInfo1, rsp.GetEUICCInfo1Request{}.Encode(), rsp.DecodeEUICCInfo1)
}

// EUICCInfo2 returns ES10b.GetEUICCInfo2.
func (c *Client) EUICCInfo2(ctx context.Context) (rsp.EUICCInfo2, error) {
	return exchange(ctx, c, rsp.TagEUICCInfo2, rsp.GetEUICCInfo2Request{}.Encode(), rsp.DecodeEUICCInfo2)
}

// Profiles lists every installed profile with all the fields the card
// reports (ES10c.GetProfilesInfo without search criteria or tag list).
func (c *Client) Profiles(ctx context.Context) ([]rsp.ProfileInfo, error) {
	return c.ProfilesInfo(ctx, rsp.GetProfilesInfoRequest{})
}

// ProfilesInfo runs ES10c.GetProfilesInfo with a search criterion and/or a
// tag list. A card error code becomes a *rsp.ResultError.
func (c *Client) ProfilesInfo(ctx context.Context, req rsp.GetProfilesInfoRequest) ([]rsp.ProfileInfo, error) {
	n := 0
	if len(req.SearchAID) > 0 {
		n++
	}
	if req.SearchICCID != "" {
		n++
	}
	if req.SearchClass != nil {
		n++
	}
	if n > 1 {
		return nil, errors.New("GetProfilesInfo: at most one search criterion (AID, ICCID or class) may be set")
	}
	r, err := exchange(ctx, c, rsp.TagProfilesInfo, req.Encode(), rsp.DecodeGetProfilesInfoResponse)
	if err != nil {
		return nil, err
	}
	if err := r.Err.Err(); err != nil {
		return nil, err
	}
	return r.Profiles, nil
}

// Profile returns the profile with the ICCID, or an error wrapping
// ErrProfileNotFound.
func (c *Client) Profile(ctx context.Context, iccid rsp.ICCID) (rsp.ProfileInfo, error) {
	if iccid == "" {
		return rsp.ProfileInfo{}, errors.New("GetProfilesInfo: empty ICCID")
	}
	ps, err := c.ProfilesInfo(ctx, rsp.GetProfilesInfoRequest{SearchICCID: iccid})
	if err != nil {
		return rsp.ProfileInfo{}, err
	}
	// A card that ignores the search criterion returns every profile.
	for _, p := range ps {
		if p.ICCID == iccid {
			return p, nil
		}
	}
	return rsp.ProfileInfo{}, fmt.Errorf("%w: ICCID %s", ErrProfileNotFound, iccid)
}

// checkID refuses a ProfileID that does not select exactly one profile.
func checkID(fn string, id rsp.ProfileID) error {
	switch {
	case id.ICCID == "" && len(id.AID) == 0:
		return fmt.Errorf("%s: no ICCID or ISD-P AID given", fn)
	case id.ICCID != "" && len(id.AID) > 0:
		return fmt.Errorf("%s: give either an ICCID or an ISD-P AID, not both", fn)
	}
	return nil
}

// Enable enables a profile (ES10c.EnableProfile); a currently enabled
// profile is disabled implicitly by the card. With refresh the card resets
// afterwards, so the client re-opens its channel on the next call. A
// non-zero result becomes a *rsp.ResultError.
func (c *Client) Enable(ctx context.Context, id rsp.ProfileID, refresh bool) error {
	if err := checkID("EnableProfile", id); err != nil {
		return err
	}
	r, err := exchange(ctx, c, rsp.TagEnable, rsp.EnableProfileRequest{ID: id, Refresh: refresh}.Encode(), rsp.DecodeEnableProfileResponse)
	if err != nil {
		return err
	}
	if err := r.Result.Err(); err != nil {
		return err
	}
	if refresh {
		c.expectReset("EnableProfile")
	}
	return nil
}

// Disable disables a profile (ES10c.DisableProfile); see Enable for refresh.
func (c *Client) Disable(ctx context.Context, id rsp.ProfileID, refresh bool) error {
	if err := checkID("DisableProfile", id); err != nil {
		return err
	}
	r, err := exchange(ctx, c, rsp.TagDisable, rsp.DisableProfileRequest{ID: id, Refresh: refresh}.Encode(), rsp.DecodeDisableProfileResponse)
	if err != nil {
		return err
	}
	if err := r.Result.Err(); err != nil {
		return err
	}
	if refresh {
		c.expectReset("DisableProfile")
	}
	return nil
}

// Delete deletes a disabled profile (ES10c.DeleteProfile).
func (c *Client) Delete(ctx context.Context, id rsp.ProfileID) error {
	if err := checkID("DeleteProfile", id); err != nil {
		return err
	}
	r, err := exchange(ctx, c, rsp.TagDelete, rsp.DeleteProfileRequest{ID: id}.Encode(), rsp.DecodeDeleteProfileResponse)
	if err != nil {
		return err
	}
	return r.Result.Err()
}

// SetNickname sets (or with "" clears) a profile's nickname
// (ES10c.SetNickname). Names over rsp.MaxNicknameLen bytes are refused.
func (c *Client) SetNickname(ctx context.Context, iccid rsp.ICCID, name string) error {
	req := rsp.SetNicknameRequest{ICCID: iccid, Nickname: name}
	if err := req.Validate(); err != nil {
		return fmt.Errorf("SetNickname: %w", err)
	}
	if iccid == "" {
		return errors.New("SetNickname: empty ICCID")
	}
	r, err := exchange(ctx, c, rsp.TagSetNickname, req.Encode(), rsp.DecodeSetNicknameResponse)
	if err != nil {
		return err
	}
	return r.Result.Err()
}

// Notifications lists the pending notifications' metadata
// (ES10b.ListNotification, no filter).
func (c *Client) Notifications(ctx context.Context) ([]rsp.NotificationMetadata, error) {
	r, err := exchange(ctx, c, rsp.TagListNotification, rsp.ListNotificationRequest{}.Encode(), rsp.DecodeListNotificationResponse)
	if err != nil {
		return nil, err
	}
	if err := r.Err.Err(); err != nil {
		return nil, err
	}
	return r.Notifications, nil
}

// RetrieveNotifications returns the signed pending notifications
// (ES10b.RetrieveNotificationsList): all of them when seq is nil, else the
// one with that sequence number.
func (c *Client) RetrieveNotifications(ctx context.Context, seq *int) ([]rsp.PendingNotification, error) {
	req := rsp.RetrieveNotificationsListRequest{}
	if seq != nil {
		if *seq < 0 {
			return nil, fmt.Errorf("RetrieveNotificationsList: negative sequence number %d", *seq)
		}
		s := *seq
		req.Seq = &s
	}
	r, err := exchange(ctx, c, rsp.TagRetrieveNotifications, req.Encode(), rsp.DecodeRetrieveNotificationsListResponse)
	if err != nil {
		return nil, err
	}
	if err := r.Err.Err(); err != nil {
		return nil, err
	}
	return r.Notifications, nil
}

// RemoveNotification removes a delivered notification from the card's list
// (ES10b.RemoveNotificationFromList); an unknown seq yields a
// *rsp.ResultError nothingToDelete.
func (c *Client) RemoveNotification(ctx context.Context, seq int) error {
	if seq < 0 {
		return fmt.Errorf("RemoveNotificationFromList: negative sequence number %d", seq)
	}
	r, err := exchange(ctx, c, rsp.TagNotificationSent, rsp.NotificationSentRequest{Seq: seq}.Encode(), rsp.DecodeNotificationSentResponse)
	if err != nil {
		return err
	}
	return r.Result.Err()
}

// ConfiguredAddresses returns the default SM-DP+ and root SM-DS addresses
// (ES10a.GetEuiccConfiguredAddresses).
func (c *Client) ConfiguredAddresses(ctx context.Context) (rsp.ConfiguredAddresses, error) {
	return exchange(ctx, c, rsp.TagConfiguredAddresses, rsp.GetConfiguredAddressesRequest{}.Encode(), rsp.DecodeConfiguredAddresses)
}

// SetDefaultDPAddress sets (or with "" clears) the default SM-DP+ address
// (ES10a.SetDefaultDpAddress).
func (c *Client) SetDefaultDPAddress(ctx context.Context, addr string) error {
	r, err := exchange(ctx, c, rsp.TagSetDefaultDP, rsp.SetDefaultDPAddressRequest{Address: addr}.Encode(), rsp.DecodeSetDefaultDPAddressResponse)
	if err != nil {
		return err
	}
	return r.Result.Err()
}

// MemoryReset deletes profiles and/or resets the default SM-DP+ address
// (ES10c.eUICCMemoryReset). A reset that deletes profiles may remove the
// enabled one, after which the modem may reset the card; the client
// therefore re-opens its channel on the next call.
func (c *Client) MemoryReset(ctx context.Context, opts rsp.ResetOptions) error {
	if opts == 0 {
		return errors.New("eUICCMemoryReset: no reset option given")
	}
	r, err := exchange(ctx, c, rsp.TagMemoryReset, rsp.MemoryResetRequest{Options: opts}.Encode(), rsp.DecodeMemoryResetResponse)
	if err != nil {
		return err
	}
	if err := r.Result.Err(); err != nil {
		return err
	}
	if opts&(rsp.ResetDeleteOperational|rsp.ResetDeleteFieldLoadedTest) != 0 {
		c.expectReset("eUICCMemoryReset")
	}
	return nil
}

// Challenge returns a fresh eUICC challenge (ES10b.GetEUICCChallenge), the
// first step of common mutual authentication.
func (c *Client) Challenge(ctx context.Context) ([]byte, error) {
	return exchange(ctx, c, rsp.TagGetEUICCChallenge, tlv.Encode(rsp.TagGetEUICCChallenge, nil), decodeChallenge)
}

// decodeChallenge parses BF2E { 80 <16 bytes> }.
func decodeChallenge(b []byte) ([]byte, error) {
	t, err := tlv.DecodeOne(b)
	if err != nil {
		return nil, err
	}
	if t.Tag != rsp.TagGetEUICCChallenge {
		return nil, fmt.Errorf("%w: %s, want %s", rsp.ErrWrongTag, t.Tag, rsp.TagGetEUICCChallenge)
	}
	ch, err := t.Must(0x80)
	if err != nil {
		return nil, err
	}
	if len(ch.Value) != ChallengeLen {
		return nil, fmt.Errorf("%w: challenge of %d bytes, want %d", rsp.ErrMalformed, len(ch.Value), ChallengeLen)
	}
	return bytes.Clone(ch.Value), nil
}

// expectReset drops the channel after a command that makes the card reset
// (a refresh), so that the next call opens a new one instead of failing on
// the dead one.
func (c *Client) expectReset(fn string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.ch == nil {
		return
	}
	if err := c.ch.Close(); err != nil {
		c.log.Debug("closing channel before card refresh", "function", fn, "error", err)
	}
	c.ch = nil
	c.log.Info("card refresh expected; the channel is re-opened on the next ES10 call", "function", fn)
}

// rawExchange is exchange that also returns the response bytes exactly as
// the card sent them: signed responses are forwarded to the SM-DP+
// verbatim, never re-encoded.
func rawExchange[T any](ctx context.Context, c *Client, tag tlv.Tag, req []byte, decode func([]byte) (T, error)) (T, []byte, error) {
	var zero T
	b, err := c.call(ctx, tag, req)
	if err != nil {
		return zero, nil, err
	}
	v, err := decode(b)
	if err != nil {
		return zero, nil, fmt.Errorf("%s: decode response: %w", functionName(tag), err)
	}
	return v, b, nil
}

// EUICCInfo1Raw returns ES10b.GetEUICCInfo1 decoded and as the exact BF20
// bytes of the card (what ES9+ initiateAuthentication carries).
func (c *Client) EUICCInfo1Raw(ctx context.Context) (rsp.EUICCInfo1, []byte, error) {
	return rawExchange(ctx, c, rsp.TagEUICCInfo1, rsp.GetEUICCInfo1Request{}.Encode(), rsp.DecodeEUICCInfo1)
}

// AuthenticateServer runs ES10b.AuthenticateServer and returns the
// response with its exact bytes (forwarded to ES9+ authenticateClient). An
// error code from the card is returned as the response's Err().
func (c *Client) AuthenticateServer(ctx context.Context, req rsp.AuthenticateServerRequest) (rsp.AuthenticateServerResponse, []byte, error) {
	r, raw, err := rawExchange(ctx, c, rsp.TagAuthenticateServer, req.Encode(), rsp.DecodeAuthenticateServerResponse)
	if err != nil {
		return r, nil, err
	}
	if err := r.Err(); err != nil {
		return r, raw, err
	}
	return r, raw, nil
}

// PrepareDownload runs ES10b.PrepareDownload and returns the response with
// its exact bytes (forwarded to ES9+ getBoundProfilePackage). An error code
// from the card is returned as the response's Err().
func (c *Client) PrepareDownload(ctx context.Context, req rsp.PrepareDownloadRequest) (rsp.PrepareDownloadResponse, []byte, error) {
	r, raw, err := rawExchange(ctx, c, rsp.TagPrepareDownload, req.Encode(), rsp.DecodePrepareDownloadResponse)
	if err != nil {
		return r, nil, err
	}
	if err := r.Err(); err != nil {
		return r, raw, err
	}
	return r, raw, nil
}

// CancelSession runs ES10b.CancelSession for the download session txid and
// returns the signed response with its exact bytes (forwarded to ES9+
// cancelSession). An error code from the card (invalidTransactionId when
// the card has no such session) is returned as the response's Err().
func (c *Client) CancelSession(ctx context.Context, txid []byte, reason rsp.CancelSessionReason) (rsp.CancelSessionResponse, []byte, error) {
	req := rsp.CancelSessionRequest{TransactionID: txid, Reason: reason}
	r, raw, err := rawExchange(ctx, c, rsp.TagCancelSession, req.Encode(), rsp.DecodeCancelSessionResponse)
	if err != nil {
		return r, nil, err
	}
	if err := r.Err(); err != nil {
		return r, raw, err
	}
	return r, raw, nil
}

// LoadBoundProfilePackage sends one segment of a bound profile package
// (ES10b.LoadBoundProfilePackage; see bsp.Segments for the split). It
// returns nil while the card expects more segments and the card's
// ProfileInstallationResult (BF37) when it has one, after the last segment
// or early on a failure.
func (c *Client) LoadBoundProfilePackage(ctx context.Context, segment []byte) ([]byte, error) {
	if len(segment) == 0 {
		return nil, errors.New("LoadBoundProfilePackage: empty segment")
	}
	b, err := c.call(ctx, rsp.TagLoadBoundProfilePackage, segment)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, nil
	}
	return b, nil
}
