package lpa

import (
	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/tlv"
)

// functionName names an ES10 function for errors and logs; unknown tags
// (BPP segments such as A0/A3/86) are named by their hex tag.
func functionName(tag tlv.Tag) string {
	if n := rsp.FunctionName(tag); n != "" {
		return n
	}
	return "ES10 " + tag.String()
}

// idempotent reports whether the ES10 function with this request tag only
// reads card state, so that it may be repeated after a card reset.
func idempotent(tag tlv.Tag) bool {
	switch tag {
	case rsp.TagGetEID, rsp.TagEUICCInfo1, rsp.TagEUICCInfo2, rsp.TagProfilesInfo,
		rsp.TagListNotification, rsp.TagRetrieveNotifications, rsp.TagConfiguredAddresses:
		return true
	}
	return false
}
