// Result codes, error codes and enumerations of sgp22.md 2.1 and 2.5.

package rsp

import "strconv"

// ProfileState is the state of a profile on the eUICC.
type ProfileState int

// ProfileState values.
const (
	ProfileDisabled ProfileState = 0 // disabled
	ProfileEnabled  ProfileState = 1 // enabled
)

// String returns the SGP.22 name of r, or "unknown(N)".
func (r ProfileState) String() string {
	switch r {
	case ProfileDisabled:
		return "disabled"
	case ProfileEnabled:
		return "enabled"
	}
	return "unknown(" + strconv.Itoa(int(r)) + ")"
}

// ProfileClass is the profile class.
type ProfileClass int

// ProfileClass values.
const (
	ProfileClassTest         ProfileClass = 0 // test
	ProfileClassProvisioning ProfileClass = 1 // provisioning
	ProfileClassOperational  ProfileClass = 2 // operational
)

// String returns the SGP.22 name of r, or "unknown(N)".
func (r ProfileClass) String() string {
	switch r {
	case ProfileClassTest:
		return "test"
	case ProfileClassProvisioning:
		return "provisioning"
	case ProfileClassOperational:
		return "operational"
	}
	return "unknown(" + strconv.Itoa(int(r)) + ")"
}

// IconType is the format of a profile icon.
type IconType int

// IconType values.
const (
	IconJPG IconType = 0 // jpg
	IconPNG IconType = 1 // png
)

// String returns the SGP.22 name of r, or "unknown(N)".
func (r IconType) String() string {
	switch r {
	case IconJPG:
		return "jpg"
	case IconPNG:
		return "png"
	}
	return "unknown(" + strconv.Itoa(int(r)) + ")"
}

// EnableResult is the result of ES10c.EnableProfile.
type EnableResult int

// EnableResult values.
const (
	EnableOK                        EnableResult = 0   // ok
	EnableICCIDOrAIDNotFound        EnableResult = 1   // iccidOrAidNotFound
	EnableProfileNotInDisabledState EnableResult = 2   // profileNotInDisabledState
	EnableDisallowedByPolicy        EnableResult = 3   // disallowedByPolicy
	EnableWrongProfileReenabling    EnableResult = 4   // wrongProfileReenabling
	EnableCATBusy                   EnableResult = 5   // catBusy
	EnableUndefinedError            EnableResult = 127 // undefinedError
)

// String returns the SGP.22 name of r, or "unknown(N)".
func (r EnableResult) String() string {
	switch r {
	case EnableOK:
		return "ok"
	case EnableICCIDOrAIDNotFound:
		return "iccidOrAidNotFound"
	case EnableProfileNotInDisabledState:
		return "profileNotInDisabledState"
	case EnableDisallowedByPolicy:
		return "disallowedByPolicy"
	case EnableWrongProfileReenabling:
		return "wrongProfileReenabling"
	case EnableCATBusy:
		return "catBusy"
	case EnableUndefinedError:
		return "undefinedError"
	}
	return "unknown(" + strconv.Itoa(int(r)) + ")"
}

// Err returns nil for 0 and a *ResultError otherwise.
func (r EnableResult) Err() error {
	if r == 0 {
		return nil
	}
	return resultErr(TagEnable, int(r), r.String())
}

// DisableResult is the result of ES10c.DisableProfile.
type DisableResult int

// DisableResult values.
const (
	DisableOK                       DisableResult = 0   // ok
	DisableICCIDOrAIDNotFound       DisableResult = 1   // iccidOrAidNotFound
	DisableProfileNotInEnabledState DisableResult = 2   // profileNotInEnabledState
	DisableDisallowedByPolicy       DisableResult = 3   // disallowedByPolicy
	DisableCATBusy                  DisableResult = 5   // catBusy
	DisableUndefinedError           DisableResult = 127 // undefinedError
)

// String returns the SGP.22 name of r, or "unknown(N)".
func (r DisableResult) String() string {
	switch r {
	case DisableOK:
		return "ok"
	case DisableICCIDOrAIDNotFound:
		return "iccidOrAidNotFound"
	case DisableProfileNotInEnabledState:
		return "profileNotInEnabledState"
	case DisableDisallowedByPolicy:
		return "disallowedByPolicy"
	case DisableCATBusy:
		return "catBusy"
	case DisableUndefinedError:
		return "undefinedError"
	}
	return "unknown(" + strconv.Itoa(int(r)) + ")"
}

// Err returns nil for 0 and a *ResultError otherwise.
func (r DisableResult) Err() error {
	if r == 0 {
		return nil
	}
	return resultErr(TagDisable, int(r), r.String())
}

// DeleteResult is the result of ES10c.DeleteProfile.
type DeleteResult int

// DeleteResult values.
const (
	DeleteOK                        DeleteResult = 0   // ok
	DeleteICCIDOrAIDNotFound        DeleteResult = 1   // iccidOrAidNotFound
	DeleteProfileNotInDisabledState DeleteResult = 2   // profileNotInDisabledState
	DeleteDisallowedByPolicy        DeleteResult = 3   // disallowedByPolicy
	DeleteUndefinedError            DeleteResult = 127 // undefinedError
)

// String returns the SGP.22 name of r, or "unknown(N)".
func (r DeleteResult) String() string {
	switch r {
	case DeleteOK:
		return "ok"
	case DeleteICCIDOrAIDNotFound:
		return "iccidOrAidNotFound"
	case DeleteProfileNotInDisabledState:
		return "profileNotInDisabledState"
	case DeleteDisallowedByPolicy:
		return "disallowedByPolicy"
	case DeleteUndefinedError:
		return "undefinedError"
	}
	return "unknown(" + strconv.Itoa(int(r)) + ")"
}

// Err returns nil for 0 and a *ResultError otherwise.
func (r DeleteResult) Err() error {
	if r == 0 {
		return nil
	}
	return resultErr(TagDelete, int(r), r.String())
}

// SetNicknameResult is the result of ES10c.SetNickname.
type SetNicknameResult int

// SetNicknameResult values.
const (
	SetNicknameOK             SetNicknameResult = 0   // ok
	SetNicknameICCIDNotFound  SetNicknameResult = 1   // iccidNotFound
	SetNicknameUndefinedError SetNicknameResult = 127 // undefinedError
)

// String returns the SGP.22 name of r, or "unknown(N)".
func (r SetNicknameResult) String() string {
	switch r {
	case SetNicknameOK:
		return "ok"
	case SetNicknameICCIDNotFound:
		return "iccidNotFound"
	case SetNicknameUndefinedError:
		return "undefinedError"
	}
	return "unknown(" + strconv.Itoa(int(r)) + ")"
}

// Err returns nil for 0 and a *ResultError otherwise.
func (r SetNicknameResult) Err() error {
	if r == 0 {
		return nil
	}
	return resultErr(TagSetNickname, int(r), r.String())
}

// SetDefaultDPAddressResult is the result of ES10a.SetDefaultDpAddress.
type SetDefaultDPAddressResult int

// SetDefaultDPAddressResult values.
const (
	SetDefaultDPAddressOK             SetDefaultDPAddressResult = 0   // ok
	SetDefaultDPAddressUndefinedError SetDefaultDPAddressResult = 127 // undefinedError
)

// String returns the SGP.22 name of r, or "unknown(N)".
func (r SetDefaultDPAddressResult) String() string {
	switch r {
	case SetDefaultDPAddressOK:
		return "ok"
	case SetDefaultDPAddressUndefinedError:
		return "undefinedError"
	}
	return "unknown(" + strconv.Itoa(int(r)) + ")"
}

// Err returns nil for 0 and a *ResultError otherwise.
func (r SetDefaultDPAddressResult) Err() error {
	if r == 0 {
		return nil
	}
	return resultErr(TagSetDefaultDP, int(r), r.String())
}

// MemoryResetResult is the result of ES10c.eUICCMemoryReset.
type MemoryResetResult int

// MemoryResetResult values.
const (
	MemoryResetOK              MemoryResetResult = 0   // ok
	MemoryResetNothingToDelete MemoryResetResult = 1   // nothingToDelete
	MemoryResetCATBusy         MemoryResetResult = 5   // catBusy
	MemoryResetUndefinedError  MemoryResetResult = 127 // undefinedError
)

// String returns the SGP.22 name of r, or "unknown(N)".
func (r MemoryResetResult) String() string {
	switch r {
	case MemoryResetOK:
		return "ok"
	case MemoryResetNothingToDelete:
		return "nothingToDelete"
	case MemoryResetCATBusy:
		return "catBusy"
	case MemoryResetUndefinedError:
		return "undefinedError"
	}
	return "unknown(" + strconv.Itoa(int(r)) + ")"
}

// Err returns nil for 0 and a *ResultError otherwise.
func (r MemoryResetResult) Err() error {
	if r == 0 {
		return nil
	}
	return resultErr(TagMemoryReset, int(r), r.String())
}

// NotificationSentResult is the result of ES10b.RemoveNotificationFromList.
type NotificationSentResult int

// NotificationSentResult values.
const (
	NotificationSentOK              NotificationSentResult = 0   // ok
	NotificationSentNothingToDelete NotificationSentResult = 1   // nothingToDelete
	NotificationSentUndefinedError  NotificationSentResult = 127 // undefinedError
)

// String returns the SGP.22 name of r, or "unknown(N)".
func (r NotificationSentResult) String() string {
	switch r {
	case NotificationSentOK:
		return "ok"
	case NotificationSentNothingToDelete:
		return "nothingToDelete"
	case NotificationSentUndefinedError:
		return "undefinedError"
	}
	return "unknown(" + strconv.Itoa(int(r)) + ")"
}

// Err returns nil for 0 and a *ResultError otherwise.
func (r NotificationSentResult) Err() error {
	if r == 0 {
		return nil
	}
	return resultErr(TagNotificationSent, int(r), r.String())
}

// ProfileInfoListError is the error of ES10c.GetProfilesInfo (0 means no error).
type ProfileInfoListError int

// ProfileInfoListError values.
const (
	ProfileInfoListIncorrectInputValues ProfileInfoListError = 1   // incorrectInputValues
	ProfileInfoListUndefinedError       ProfileInfoListError = 127 // undefinedError
)

// String returns the SGP.22 name of r, or "unknown(N)".
func (r ProfileInfoListError) String() string {
	switch r {
	case ProfileInfoListIncorrectInputValues:
		return "incorrectInputValues"
	case ProfileInfoListUndefinedError:
		return "undefinedError"
	}
	return "unknown(" + strconv.Itoa(int(r)) + ")"
}

// Err returns nil for 0 and a *ResultError otherwise.
func (r ProfileInfoListError) Err() error {
	if r == 0 {
		return nil
	}
	return resultErr(TagProfilesInfo, int(r), r.String())
}

// ListNotificationError is the error of ES10b.ListNotification (0 means no error).
type ListNotificationError int

// ListNotificationError values.
const (
	ListNotificationUndefinedError ListNotificationError = 127 // undefinedError
)

// String returns the SGP.22 name of r, or "unknown(N)".
func (r ListNotificationError) String() string {
	switch r {
	case ListNotificationUndefinedError:
		return "undefinedError"
	}
	return "unknown(" + strconv.Itoa(int(r)) + ")"
}

// Err returns nil for 0 and a *ResultError otherwise.
func (r ListNotificationError) Err() error {
	if r == 0 {
		return nil
	}
	return resultErr(TagListNotification, int(r), r.String())
}

// RetrieveNotificationError is the error of ES10b.RetrieveNotificationsList (0 means no error).
type RetrieveNotificationError int

// RetrieveNotificationError values.
const (
	RetrieveNotificationNoResultAvailable RetrieveNotificationError = 1   // noResultAvailable
	RetrieveNotificationUndefinedError    RetrieveNotificationError = 127 // undefinedError
)

// String returns the SGP.22 name of r, or "unknown(N)".
func (r RetrieveNotificationError) String() string {
	switch r {
	case RetrieveNotificationNoResultAvailable:
		return "noResultAvailable"
	case RetrieveNotificationUndefinedError:
		return "undefinedError"
	}
	return "unknown(" + strconv.Itoa(int(r)) + ")"
}

// Err returns nil for 0 and a *ResultError otherwise.
func (r RetrieveNotificationError) Err() error {
	if r == 0 {
		return nil
	}
	return resultErr(TagRetrieveNotifications, int(r), r.String())
}

// NotificationEvent is a set of profile management operations
// (NotificationEvent BIT STRING): bit 0 install, 1 enable, 2 disable,
// 3 delete.
type NotificationEvent uint8

// NotificationEvent bits.
const (
	EventInstall NotificationEvent = 1 << 0
	EventEnable  NotificationEvent = 1 << 1
	EventDisable NotificationEvent = 1 << 2
	EventDelete  NotificationEvent = 1 << 3
)

// String returns the names of the set events joined by ",", e.g.
// "install" or "enable,disable"; "none" for the empty set.
func (e NotificationEvent) String() string {
	return joinNames(uint8(e), func(bit int) string {
		switch bit {
		case 0:
			return "install"
		case 1:
			return "enable"
		case 2:
			return "disable"
		case 3:
			return "delete"
		}
		return "bit" + strconv.Itoa(bit)
	})
}

// bitString returns the DER BIT STRING content, e.g. 07 80 for install.
func (e NotificationEvent) bitString() []byte { return encBits8(uint8(e)) }

// ResetOptions selects what ES10c.eUICCMemoryReset deletes (BIT STRING).
type ResetOptions uint8

// ResetOptions bits.
const (
	ResetDeleteOperational     ResetOptions = 1 << 0 // deleteOperationalProfiles
	ResetDeleteFieldLoadedTest ResetOptions = 1 << 1 // deleteFieldLoadedTestProfiles
	ResetDefaultSMDP           ResetOptions = 1 << 2 // resetDefaultSmdpAddress
)

// String returns the SGP.22 names of the set options joined by ",".
func (o ResetOptions) String() string {
	return joinNames(uint8(o), func(bit int) string {
		switch bit {
		case 0:
			return "deleteOperationalProfiles"
		case 1:
			return "deleteFieldLoadedTestProfiles"
		case 2:
			return "resetDefaultSmdpAddress"
		}
		return "bit" + strconv.Itoa(bit)
	})
}
