package rsp

import (
	"fmt"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// Tags of the ES10 functions and of the structures shared between them.
const (
	TagGetEID                = tlv.Tag(0xBF3E)
	TagEUICCInfo1            = tlv.Tag(0xBF20)
	TagEUICCInfo2            = tlv.Tag(0xBF22)
	TagProfilesInfo          = tlv.Tag(0xBF2D)
	TagEnable                = tlv.Tag(0xBF31)
	TagDisable               = tlv.Tag(0xBF32)
	TagDelete                = tlv.Tag(0xBF33)
	TagMemoryReset           = tlv.Tag(0xBF34)
	TagSetNickname           = tlv.Tag(0xBF29)
	TagListNotification      = tlv.Tag(0xBF28)
	TagRetrieveNotifications = tlv.Tag(0xBF2B)
	TagNotificationSent      = tlv.Tag(0xBF30)
	TagConfiguredAddresses   = tlv.Tag(0xBF3C)
	TagSetDefaultDP          = tlv.Tag(0xBF3F)

	TagProfileInstallationResult = tlv.Tag(0xBF37)
	TagNotificationMetadata      = tlv.Tag(0xBF2F)
	TagProfileInfo               = tlv.Tag(0xE3)

	// Further ES10b functions and BPP commands (sgp22.md 2.1).
	TagPrepareDownload               = tlv.Tag(0xBF21)
	TagInitialiseSecureChannel       = tlv.Tag(0xBF23)
	TagConfigureISDP                 = tlv.Tag(0xBF24)
	TagStoreMetadata                 = tlv.Tag(0xBF25)
	TagReplaceSessionKeys            = tlv.Tag(0xBF26)
	TagProfileInstallationResultData = tlv.Tag(0xBF27)
	TagGetEUICCChallenge             = tlv.Tag(0xBF2E)
	TagLoadCRL                       = tlv.Tag(0xBF35)
	TagLoadBoundProfilePackage       = tlv.Tag(0xBF36)
	TagAuthenticateServer            = tlv.Tag(0xBF38)
	TagCancelSession                 = tlv.Tag(0xBF41)
	TagGetRAT                        = tlv.Tag(0xBF43)

	// Names used by the download API (DL-API.md) for the same tags.
	TagEUICCChallenge      = TagGetEUICCChallenge
	TagBoundProfilePackage = TagLoadBoundProfilePackage
)

// Inner tags used by several messages.
const (
	tagICCID     = tlv.Tag(0x5A)
	tagAID       = tlv.Tag(0x4F)
	tagTagList   = tlv.Tag(0x5C)
	tagSignature = tlv.Tag(0x5F37)
	tagSequence  = tlv.Tag(0x30)
	tagOctets    = tlv.Tag(0x04)
	tagUTF8      = tlv.Tag(0x0C)
	tagState     = tlv.Tag(0x9F70)
)

// FunctionName returns the SGP.22 name of the ES10 function whose request
// carries tag ("GetEID", "EnableProfile", ...), or "" if tag is not one.
func FunctionName(tag tlv.Tag) string {
	switch tag {
	case TagGetEID:
		return "GetEID"
	case TagEUICCInfo1:
		return "GetEUICCInfo1"
	case TagEUICCInfo2:
		return "GetEUICCInfo2"
	case TagProfilesInfo:
		return "GetProfilesInfo"
	case TagEnable:
		return "EnableProfile"
	case TagDisable:
		return "DisableProfile"
	case TagDelete:
		return "DeleteProfile"
	case TagMemoryReset:
		return "eUICCMemoryReset"
	case TagSetNickname:
		return "SetNickname"
	case TagListNotification:
		return "ListNotification"
	case TagRetrieveNotifications:
		return "RetrieveNotificationsList"
	case TagNotificationSent:
		return "RemoveNotificationFromList"
	case TagConfiguredAddresses:
		return "GetEuiccConfiguredAddresses"
	case TagSetDefaultDP:
		return "SetDefaultDpAddress"
	case TagPrepareDownload:
		return "PrepareDownload"
	case TagGetEUICCChallenge:
		return "GetEUICCChallenge"
	case TagLoadCRL:
		return "LoadCRL"
	case TagLoadBoundProfilePackage:
		return "LoadBoundProfilePackage"
	case TagAuthenticateServer:
		return "AuthenticateServer"
	case TagCancelSession:
		return "CancelSession"
	case TagGetRAT:
		return "GetRAT"
	}
	return ""
}

// RequestTag returns the outer tag of an incoming ES10 request. Only the tag
// and length header are checked, because a LoadBoundProfilePackage segment
// (BF36 header followed by its first command) is not a complete TLV.
func RequestTag(b []byte) (tlv.Tag, error) {
	tag, n, err := tlv.ReadTag(b)
	if err != nil {
		return 0, fmt.Errorf("rsp: request tag: %w", err)
	}
	if _, _, err := tlv.ReadLength(b[n:]); err != nil {
		return 0, fmt.Errorf("rsp: request %s: %w", tag, err)
	}
	return tag, nil
}
