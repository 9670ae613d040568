package rsp

import (
	"errors"
	"fmt"
	"testing"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

func TestNames(t *testing.T) {
	tests := []struct {
		v    fmt.Stringer
		want string
	}{
		{ProfileEnabled, "enabled"},
		{ProfileDisabled, "disabled"},
		{ProfileClassProvisioning, "provisioning"},
		{IconJPG, "jpg"},
		{EnableICCIDOrAIDNotFound, "iccidOrAidNotFound"},
		{EnableWrongProfileReenabling, "wrongProfileReenabling"},
		{EnableCATBusy, "catBusy"},
		{EnableUndefinedError, "undefinedError"},
		{EnableResult(42), "unknown(42)"},
		{DisableProfileNotInEnabledState, "profileNotInEnabledState"},
		{DeleteDisallowedByPolicy, "disallowedByPolicy"},
		{SetNicknameICCIDNotFound, "iccidNotFound"},
		{SetDefaultDPAddressUndefinedError, "undefinedError"},
		{MemoryResetNothingToDelete, "nothingToDelete"},
		{MemoryResetCATBusy, "catBusy"},
		{NotificationSentOK, "ok"},
		{ProfileInfoListIncorrectInputValues, "incorrectInputValues"},
		{ListNotificationUndefinedError, "undefinedError"},
		{RetrieveNotificationNoResultAvailable, "noResultAvailable"},
		{EventInstall, "install"},
		{EventEnable | EventDisable, "enable,disable"},
		{EventInstall | EventEnable | EventDisable | EventDelete, "install,enable,disable,delete"},
		{NotificationEvent(0), "none"},
		{NotificationEvent(1 << 5), "bit5"},
		{ResetDeleteOperational | ResetDefaultSMDP, "deleteOperationalProfiles,resetDefaultSmdpAddress"},
		{ResetDeleteFieldLoadedTest, "deleteFieldLoadedTestProfiles"},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("%T(%v): String() = %q, want %q", tt.v, tt.v, got, tt.want)
		}
	}
}

func TestResultError(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{EnableProfileNotInDisabledState.Err(), "EnableProfile: profileNotInDisabledState (2)"},
		{DisableCATBusy.Err(), "DisableProfile: catBusy (5)"},
		{DeleteICCIDOrAIDNotFound.Err(), "DeleteProfile: iccidOrAidNotFound (1)"},
		{SetNicknameUndefinedError.Err(), "SetNickname: undefinedError (127)"},
		{SetDefaultDPAddressUndefinedError.Err(), "SetDefaultDpAddress: undefinedError (127)"},
		{MemoryResetNothingToDelete.Err(), "eUICCMemoryReset: nothingToDelete (1)"},
		{NotificationSentNothingToDelete.Err(), "RemoveNotificationFromList: nothingToDelete (1)"},
		{ProfileInfoListIncorrectInputValues.Err(), "GetProfilesInfo: incorrectInputValues (1)"},
		{ListNotificationUndefinedError.Err(), "ListNotification: undefinedError (127)"},
		{RetrieveNotificationNoResultAvailable.Err(), "RetrieveNotificationsList: noResultAvailable (1)"},
		{EnableResult(9).Err(), "EnableProfile: unknown(9) (9)"},
	}
	for _, tt := range tests {
		var re *ResultError
		if !errors.As(tt.err, &re) {
			t.Fatalf("%v is not a *ResultError", tt.err)
		}
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	for _, ok := range []interface{ Err() error }{EnableOK, DisableOK, DeleteOK, SetNicknameOK, SetDefaultDPAddressOK,
		MemoryResetOK, NotificationSentOK, ProfileInfoListError(0), ListNotificationError(0), RetrieveNotificationError(0)} {
		if err := ok.Err(); err != nil {
			t.Errorf("%T(0).Err() = %v, want nil", ok, err)
		}
	}
	var re *ResultError
	if errors.As(EnableCATBusy.Err(), &re); re.Code != 5 || re.Name != "catBusy" || re.Function != "EnableProfile" {
		t.Errorf("fields = %+v", re)
	}
}

func TestFunctionName(t *testing.T) {
	tests := []struct {
		tag  tlv.Tag
		want string
	}{
		{TagGetEID, "GetEID"}, {TagEUICCInfo1, "GetEUICCInfo1"}, {TagEUICCInfo2, "GetEUICCInfo2"},
		{TagProfilesInfo, "GetProfilesInfo"}, {TagEnable, "EnableProfile"}, {TagDisable, "DisableProfile"},
		{TagDelete, "DeleteProfile"}, {TagMemoryReset, "eUICCMemoryReset"}, {TagSetNickname, "SetNickname"},
		{TagListNotification, "ListNotification"}, {TagRetrieveNotifications, "RetrieveNotificationsList"},
		{TagNotificationSent, "RemoveNotificationFromList"}, {TagConfiguredAddresses, "GetEuiccConfiguredAddresses"},
		{TagSetDefaultDP, "SetDefaultDpAddress"}, {TagAuthenticateServer, "AuthenticateServer"},
		{TagLoadBoundProfilePackage, "LoadBoundProfilePackage"}, {TagProfileInfo, ""}, {0x5A, ""},
	}
	for _, tt := range tests {
		if got := FunctionName(tt.tag); got != tt.want {
			t.Errorf("FunctionName(%s) = %q, want %q", tt.tag, got, tt.want)
		}
	}
}

func TestRequestTag(t *testing.T) {
	tests := []struct {
		in   string
		want tlv.Tag
		ok   bool
	}{
		{hexGetEIDReq, TagGetEID, true},
		{hexEnable, TagEnable, true},
		{"BF36820400BF2300", TagLoadBoundProfilePackage, true}, // first segment of a BPP, not a complete TLV
		{"BF2D00", TagProfilesInfo, true},
		{"", 0, false},
		{"BF", 0, false},
		{"BF3E", 0, false},
		{"BF3E80", 0, false},
	}
	for _, tt := range tests {
		got, err := RequestTag(unhex(t, tt.in))
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("RequestTag(%s) = %s, %v; want %s ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
