package portal

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const (
	testHost   = "portal.contoso.test"
	testOrigin = "https://portal.contoso.test"
	testAC     = "1$smdp.contoso.test$JO46UQDI07IKQDGG"
	testICCID  = "8988247000100003319"
)

// msg builds a bridge message from the allowed origin.
func msg(object, op string, args any, ctx string) []byte {
	m := map[string]any{"v": 1, "object": object, "op": op, "origin": testOrigin, "args": args}
	if ctx != "" {
		m["context"] = ctx
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// with returns a copy of msg's map with key set to v (nil v deletes key).
func with(raw []byte, key string, v any) []byte {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		panic(err)
	}
	if v == nil {
		delete(m, key)
	} else {
		m[key] = v
	}
	b, _ := json.Marshal(m)
	return b
}

func intp(n int) *int { return &n }

func src(object, op string) Source { return Source{Object: object, Op: op, Origin: testOrigin} }

type obj = map[string]any

var (
	metaCurrent = obj{"userAccount": "new", "purchaseInstrument": "existing", "line": "new",
		"moDirectStatus": "complete", "planName": "10 GB / 30 days"}
	metaCurrentWant = Meta{UserAccount: UserAccountNew, PurchaseInstrument: PurchaseInstrumentExisting,
		Line: LineNew, MoDirectStatus: MoDirectComplete, PlanName: "10 GB / 30 days"}
	metaCancel     = obj{"lineType": "Bailed", "modirectStatus": "CANCELLED", "planName": ""}
	metaCancelWant = Meta{Line: LineBailed, MoDirectStatus: MoDirectCancelled}
)

func legacyPayload(fields obj, purchaseResult any) string {
	f := obj{}
	for k, v := range fields {
		f[k] = v
	}
	if s, ok := purchaseResult.(obj); ok {
		b, _ := json.Marshal(s)
		f["purchaseResult"] = string(b)
	} else if purchaseResult != nil {
		f["purchaseResult"] = purchaseResult
	}
	b, _ := json.Marshal(f)
	return string(b)
}

func TestParseMessageCalls(t *testing.T) {
	const ctx = "mp-0123456789abcdef0123456789abcdef"
	legacyOK := legacyPayload(obj{"ver": "1", "success": true, "transactionId": "%2F7RBTuSJt02OZbX8.4",
		"activationCode": testAC, "iccid": testICCID},
		obj{"userAccount": "New", "purchaseInstrument": "Existing", "line": "New", "moDirectStatus": "Complete", "planName": "Unlimited"})
	legacyBailed := legacyPayload(obj{"ver": 1, "success": false, "transactionId": "t1", "activationCode": "", "iccid": "",
		"eId": "89033023422130000000000199055797", "orderId": ""},
		obj{"userAccount": "Bailed", "purchaseInstrument": "None", "line": "None", "modirectStatus": "None", "planName": ""})

	tests := []struct {
		name string
		raw  []byte
		want Call
	}{
		{"inline download", msg(ObjectMobilePlansInlineOperations, "notifyProfileDownload",
			obj{"meta": metaCurrent, "activationCode": testAC}, ctx),
			&ProfileDownload{Source: src(ObjectMobilePlansInlineOperations, "notifyProfileDownload"),
				Meta: metaCurrentWant, ActivationCode: testAC, ContextID: ctx}},
		{"deferred download", msg(ObjectMobilePlansInlineOperations, "notifyProfileDownload",
			obj{"meta": metaCurrent, "activationCode": testAC, "downloadDelay": 60}, ctx),
			&ProfileDownload{Source: src(ObjectMobilePlansInlineOperations, "notifyProfileDownload"),
				Meta: metaCurrentWant, ActivationCode: testAC, DelayMinutes: intp(60), ContextID: ctx}},
		{"deferred download null delay", msg(ObjectMobilePlansInlineOperations, "notifyProfileDownload",
			obj{"meta": obj{}, "activationCode": testAC, "downloadDelay": nil}, ctx),
			&ProfileDownload{Source: src(ObjectMobilePlansInlineOperations, "notifyProfileDownload"),
				ActivationCode: testAC, ContextID: ctx}},
		{"download, other spellings and case", msg(ObjectMobilePlansInlineOperations, "notifyProfileDownload",
			obj{"meta": metaCancel, "activationCode": "1$smdp.address$"}, ctx),
			&ProfileDownload{Source: src(ObjectMobilePlansInlineOperations, "notifyProfileDownload"),
				Meta: metaCancelWant, ActivationCode: "1$smdp.address$", ContextID: ctx}},
		{"download, both spellings agree", msg(ObjectMobilePlansInlineOperations, "notifyProfileDownload",
			obj{"meta": obj{"line": "existing", "lineType": "Existing", "moDirectStatus": "invalidsim", "modirectStatus": "InvalidSIM"},
				"activationCode": "1$127.0.0.1:8443$A-1"}, ctx),
			&ProfileDownload{Source: src(ObjectMobilePlansInlineOperations, "notifyProfileDownload"),
				Meta: Meta{Line: LineExisting, MoDirectStatus: MoDirectInvalidSIM}, ActivationCode: "1$127.0.0.1:8443$A-1", ContextID: ctx}},
		{"AC with OID and CC flag 0", msg(ObjectMobilePlansInlineOperations, "notifyProfileDownload",
			obj{"meta": obj{}, "activationCode": "1$smdp.example.com$MATCHING-ID$2.999.10$0"}, ctx),
			&ProfileDownload{Source: src(ObjectMobilePlansInlineOperations, "notifyProfileDownload"),
				ActivationCode: "1$smdp.example.com$MATCHING-ID$2.999.10$0", ContextID: ctx}},
		{"legacy inline download", msg(ObjectMobilePlansInlineProfileDownload, "notifyInlineProfileDownload",
			obj{"meta": metaCurrent, "activationCode": testAC}, ""),
			&ProfileDownload{Source: src(ObjectMobilePlansInlineProfileDownload, "notifyInlineProfileDownload"),
				Meta: metaCurrentWant, ActivationCode: testAC}},
		{"DataMart inline download", msg(ObjectDataMartInlineProfile, "notifyInlineProfileDownload",
			obj{"meta": metaCurrent, "activationCode": testAC}, ""),
			&ProfileDownload{Source: src(ObjectDataMartInlineProfile, "notifyInlineProfileDownload"),
				Meta: metaCurrentWant, ActivationCode: testAC}},
		{"operation cancel", msg(ObjectMobilePlansInlineOperations, "notifyOperationCancel", obj{}, ctx),
			&OperationCancel{Source: src(ObjectMobilePlansInlineOperations, "notifyOperationCancel"), ContextID: ctx}},
		{"inline balance addition", msg(ObjectMobilePlansInlineOperations, "notifyBalanceAddition",
			obj{"meta": metaCurrent}, ctx),
			&BalanceAddition{Source: src(ObjectMobilePlansInlineOperations, "notifyBalanceAddition"),
				Meta: metaCurrentWant, ContextID: ctx}},
		{"inline balance addition with ICCID", msg(ObjectMobilePlansInlineOperations, "notifyBalanceAddition",
			obj{"meta": metaCurrent, "iccid": testICCID}, ctx),
			&BalanceAddition{Source: src(ObjectMobilePlansInlineOperations, "notifyBalanceAddition"),
				Meta: metaCurrentWant, ICCID: testICCID, ContextID: ctx}},
		{"legacy balance addition", msg(ObjectMobilePlans, "notifyBalanceAddition",
			obj{"meta": metaCurrent, "iccid": testICCID}, ""),
			&BalanceAddition{Source: src(ObjectMobilePlans, "notifyBalanceAddition"), Meta: metaCurrentWant, ICCID: testICCID}},
		{"purchase with download", msg(ObjectMobilePlans, "notifyPurchaseWithProfileDownload",
			obj{"meta": metaCurrent, "activationCode": testAC, "networkRegistrationInterval": 5}, ""),
			&PurchaseWithProfileDownload{Source: src(ObjectMobilePlans, "notifyPurchaseWithProfileDownload"),
				Meta: metaCurrentWant, ActivationCode: testAC, NetworkRegistrationInterval: 5}},
		{"purchase with download, no interval", msg(ObjectDataMart, "notifyPurchaseWithProfileDownload",
			obj{"meta": metaCurrent, "activationCode": testAC}, ""),
			&PurchaseWithProfileDownload{Source: src(ObjectDataMart, "notifyPurchaseWithProfileDownload"),
				Meta: metaCurrentWant, ActivationCode: testAC}},
		{"cancelled purchase", msg(ObjectMobilePlans, "notifyCancelledPurchase", obj{"meta": metaCancel}, ""),
			&CancelledPurchase{Source: src(ObjectMobilePlans, "notifyCancelledPurchase"), Meta: metaCancelWant}},
		{"DataMart cancelled purchase", msg(ObjectDataMart, "notifyCancelledPurchase", obj{"meta": metaCancel}, ""),
			&CancelledPurchase{Source: src(ObjectDataMart, "notifyCancelledPurchase"), Meta: metaCancelWant}},
		{"delayed profile", msg(ObjectMobilePlans, "notifyPurchaseDelayedProfile",
			obj{"meta": metaCurrent, "profileDownloadDelayInterval": 30}, ""),
			&PurchaseDelayedProfile{Source: src(ObjectMobilePlans, "notifyPurchaseDelayedProfile"), Meta: metaCurrentWant, DelayMinutes: 30}},
		{"legacy purchase result", msg(ObjectDataMart, "notifyPurchaseResult", obj{"payload": legacyOK}, ""),
			&LegacyPurchaseResult{Source: src(ObjectDataMart, "notifyPurchaseResult"), Version: "1", Success: true,
				TransactionID: "%2F7RBTuSJt02OZbX8.4", ActivationCode: testAC, ICCID: testICCID,
				Result: Meta{UserAccount: UserAccountNew, PurchaseInstrument: PurchaseInstrumentExisting, Line: LineNew,
					MoDirectStatus: MoDirectComplete, PlanName: "Unlimited"}}},
		{"legacy purchase result, bailed", msg(ObjectDataMart, "notifyPurchaseResult", obj{"payload": legacyBailed}, ""),
			&LegacyPurchaseResult{Source: src(ObjectDataMart, "notifyPurchaseResult"), Version: "1", TransactionID: "t1",
				EID: "89033023422130000000000199055797",
				Result: Meta{UserAccount: UserAccountBailed, PurchaseInstrument: PurchaseInstrumentNone, Line: LineNone,
					MoDirectStatus: MoDirectNone}}},
		{"legacy purchase result, object purchaseResult", msg(ObjectDataMart, "notifyPurchaseResult", obj{"payload": legacyPayload(
			obj{"success": true}, map[string]any{"planName": "Day pass", "moDirectStatus": "complete"})}, ""),
			&LegacyPurchaseResult{Source: src(ObjectDataMart, "notifyPurchaseResult"), Success: true,
				Result: Meta{MoDirectStatus: MoDirectComplete, PlanName: "Day pass"}}},
		{"set scripts", msg(ObjectMobilePlansInlineOperations, OpSetScripts,
			obj{"registrationChangedScript": "portal.onReg", "profileActivationCompleteScript": "onAct"}, ""),
			&ScriptNames{Source: src(ObjectMobilePlansInlineOperations, OpSetScripts), Registration: "portal.onReg", Activation: "onAct"}},
		{"set scripts, one unset", msg(ObjectMobilePlansInlineProfileDownload, OpSetScripts,
			obj{"registrationChangedScript": "", "profileActivationCompleteScript": "$act_2"}, ""),
			&ScriptNames{Source: src(ObjectMobilePlansInlineProfileDownload, OpSetScripts), Activation: "$act_2"}},
		{"set scripts, DataMart", msg(ObjectDataMartInlineProfile, OpSetScripts, obj{"registrationChangedScript": "r"}, ""),
			&ScriptNames{Source: src(ObjectDataMartInlineProfile, OpSetScripts), Registration: "r"}},
		{"origin case", with(msg(ObjectMobilePlans, "notifyCancelledPurchase", obj{"meta": obj{}}, ""), "origin", "https://Portal.Contoso.Test"),
			&CancelledPurchase{Source: Source{Object: ObjectMobilePlans, Op: "notifyCancelledPurchase", Origin: "https://Portal.Contoso.Test"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMessage(tt.raw, testHost)
			if err != nil {
				t.Fatalf("ParseMessage: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
			// The same message from the right frame parses the same.
			got2, err := Message{Raw: tt.raw, Origin: testOrigin}.Parse(testHost)
			if err != nil || !reflect.DeepEqual(got2, tt.want) {
				t.Errorf("Message.Parse = %#v, %v", got2, err)
			}
		})
	}
}

func TestParseMessageErrors(t *testing.T) {
	const ctx = "mp-1"
	download := func(args obj) []byte {
		return msg(ObjectMobilePlansInlineOperations, "notifyProfileDownload", args, ctx)
	}
	legacy := func(payload any) []byte {
		return msg(ObjectDataMart, "notifyPurchaseResult", obj{"payload": payload}, "")
	}
	good := download(obj{"meta": metaCurrent, "activationCode": testAC})

	tests := []struct {
		name    string
		raw     []byte
		want    error
		wantCtx string
	}{
		// Origin.
		{"foreign origin", with(good, "origin", "https://evil.test"), ErrForeignOrigin, ""},
		{"http origin", with(good, "origin", "http://portal.contoso.test"), ErrForeignOrigin, ""},
		{"other port", with(good, "origin", "https://portal.contoso.test:8443"), ErrForeignOrigin, ""},
		{"suffix host", with(good, "origin", "https://portal.contoso.test.evil.test"), ErrForeignOrigin, ""},
		{"subdomain", with(good, "origin", "https://x.portal.contoso.test"), ErrForeignOrigin, ""},
		{"no origin", with(good, "origin", nil), ErrForeignOrigin, ""},
		{"null origin", with(good, "origin", "null"), ErrForeignOrigin, ""},

		// Envelope.
		{"not JSON", []byte(`{"v":1,`), ErrInvalidJSON, ""},
		{"not an object", []byte(`["v",1]`), ErrInvalidJSON, ""},
		{"empty", nil, ErrInvalidJSON, ""},
		{"origin not a string", []byte(`{"v":1,"origin":7}`), ErrInvalidJSON, ""},
		{"too large", append(slices.Clone(good[:len(good)-1]), []byte(`,"pad":"`+strings.Repeat("x", MaxMessageSize)+`"}`)...), ErrInvalidJSON, ""},
		{"version 2", with(good, "v", 2), ErrInvalidJSON, ctx},
		{"version string", with(good, "v", "1"), ErrInvalidJSON, ctx},
		{"no version", with(good, "v", nil), ErrInvalidJSON, ctx},
		{"unknown op", msg(ObjectMobilePlansInlineOperations, "notifyEverything", obj{}, ctx), ErrInvalidJSON, ctx},
		{"unknown object", msg("Contoso", "notifyProfileDownload", obj{}, ctx), ErrInvalidJSON, ctx},
		{"purchase result on MobilePlans", msg(ObjectMobilePlans, "notifyPurchaseResult", obj{"payload": "{}"}, ""), ErrInvalidJSON, ""},
		{"args null", with(good, "args", nil), ErrInvalidJSON, ctx},
		{"args array", with(good, "args", []int{1}), ErrInvalidJSON, ctx},
		{"bad context chars", with(good, "context", "mp-1\n2"), ErrInvalidJSON, ""},
		{"context too long", with(good, "context", strings.Repeat("a", 65)), ErrInvalidJSON, ""},
		{"context number", with(good, "context", 5), ErrInvalidJSON, ""},
		{"download without context", with(good, "context", nil), ErrInvalidJSON, ""},
		{"cancel without context", msg(ObjectMobilePlansInlineOperations, "notifyOperationCancel", obj{}, ""), ErrInvalidJSON, ""},
		{"inline balance without context", msg(ObjectMobilePlansInlineOperations, "notifyBalanceAddition", obj{"meta": obj{}}, ""), ErrInvalidJSON, ""},

		// Metadata.
		{"meta missing", download(obj{"activationCode": testAC}), ErrInvalidJSON, ctx},
		{"meta null", download(obj{"meta": nil, "activationCode": testAC}), ErrInvalidJSON, ctx},
		{"meta string", download(obj{"meta": "new", "activationCode": testAC}), ErrInvalidJSON, ctx},
		{"meta unknown value", download(obj{"meta": obj{"userAccount": "maybe"}, "activationCode": testAC}), ErrInvalidJSON, ctx},
		{"meta number value", download(obj{"meta": obj{"line": 1}, "activationCode": testAC}), ErrInvalidJSON, ctx},
		{"meta status not for line", download(obj{"meta": obj{"line": "complete"}, "activationCode": testAC}), ErrInvalidJSON, ctx},
		{"meta spellings disagree", download(obj{"meta": obj{"line": "new", "lineType": "existing"}, "activationCode": testAC}), ErrInvalidJSON, ctx},
		{"meta status spellings disagree", download(obj{"meta": obj{"moDirectStatus": "complete", "modirectStatus": "none"}, "activationCode": testAC}), ErrInvalidJSON, ctx},
		{"planName number", download(obj{"meta": obj{"planName": 5}, "activationCode": testAC}), ErrInvalidJSON, ctx},
		{"planName too long", download(obj{"meta": obj{"planName": strings.Repeat("p", 257)}, "activationCode": testAC}), ErrInvalidJSON, ctx},

		// Activation codes.
		{"AC missing", download(obj{"meta": obj{}}), ErrInvalidJSON, ctx},
		{"AC number", download(obj{"meta": obj{}, "activationCode": 1}), ErrInvalidJSON, ctx},
		{"AC empty", download(obj{"meta": obj{}, "activationCode": ""}), ErrInvalidActivationCode, ctx},
		{"AC with LPA prefix", download(obj{"meta": obj{}, "activationCode": "LPA:" + testAC}), ErrInvalidActivationCode, ctx},
		{"AC with lower-case prefix", download(obj{"meta": obj{}, "activationCode": "lpa:" + testAC}), ErrInvalidActivationCode, ctx},
		{"AC format 2", download(obj{"meta": obj{}, "activationCode": "2$smdp.test$ABC"}), ErrInvalidActivationCode, ctx},
		{"AC two fields", download(obj{"meta": obj{}, "activationCode": "1$smdp.test"}), ErrInvalidActivationCode, ctx},
		{"AC no address", download(obj{"meta": obj{}, "activationCode": "1$$ABC"}), ErrInvalidActivationCode, ctx},
		{"AC URL as address", download(obj{"meta": obj{}, "activationCode": "1$https://smdp.test$ABC"}), ErrInvalidActivationCode, ctx},
		{"AC bad port", download(obj{"meta": obj{}, "activationCode": "1$smdp.test:99999$ABC"}), ErrInvalidActivationCode, ctx},
		{"AC bad matching ID", download(obj{"meta": obj{}, "activationCode": "1$smdp.test$AB_C"}), ErrInvalidActivationCode, ctx},
		{"AC space", download(obj{"meta": obj{}, "activationCode": " " + testAC}), ErrInvalidActivationCode, ctx},
		{"AC bad OID", download(obj{"meta": obj{}, "activationCode": "1$smdp.test$ABC$x.y"}), ErrInvalidActivationCode, ctx},
		{"AC needs confirmation code", download(obj{"meta": obj{}, "activationCode": "1$smdp.test$ABC$$1"}), ErrInvalidActivationCode, ctx},
		{"AC too long", download(obj{"meta": obj{}, "activationCode": "1$smdp.test$" + strings.Repeat("A", 1020)}), ErrInvalidActivationCode, ctx},
		{"AC bad in purchase", msg(ObjectMobilePlans, "notifyPurchaseWithProfileDownload",
			obj{"meta": obj{}, "activationCode": "1$smdp.test"}, ""), ErrInvalidActivationCode, ""},
		{"AC bad in legacy inline", msg(ObjectMobilePlansInlineProfileDownload, "notifyInlineProfileDownload",
			obj{"meta": obj{}, "activationCode": "LPA:" + testAC}, ""), ErrInvalidActivationCode, ""},

		// Minutes.
		{"delay negative", download(obj{"meta": obj{}, "activationCode": testAC, "downloadDelay": -1}), ErrInvalidJSON, ctx},
		{"delay fraction", download(obj{"meta": obj{}, "activationCode": testAC, "downloadDelay": 1.5}), ErrInvalidJSON, ctx},
		{"delay string", download(obj{"meta": obj{}, "activationCode": testAC, "downloadDelay": "60"}), ErrInvalidJSON, ctx},
		{"delay huge", download(obj{"meta": obj{}, "activationCode": testAC, "downloadDelay": 1e21}), ErrInvalidJSON, ctx},
		{"delay over bound", download(obj{"meta": obj{}, "activationCode": testAC, "downloadDelay": MaxMinutes + 1}), ErrInvalidJSON, ctx},
		{"interval negative", msg(ObjectMobilePlans, "notifyPurchaseWithProfileDownload",
			obj{"meta": obj{}, "activationCode": testAC, "networkRegistrationInterval": -5}, ""), ErrInvalidJSON, ""},
		{"delayed profile without delay", msg(ObjectMobilePlans, "notifyPurchaseDelayedProfile", obj{"meta": obj{}}, ""), ErrInvalidJSON, ""},

		// ICCIDs.
		{"ICCID short", msg(ObjectMobilePlans, "notifyBalanceAddition", obj{"meta": obj{}, "iccid": "8988"}, ""), ErrInvalidICCID, ""},
		{"ICCID letters", msg(ObjectMobilePlans, "notifyBalanceAddition", obj{"meta": obj{}, "iccid": "898824700010000331F"}, ""), ErrInvalidICCID, ""},
		{"ICCID not 89", msg(ObjectMobilePlansInlineOperations, "notifyBalanceAddition", obj{"meta": obj{}, "iccid": "1988247000100003319"}, ctx), ErrInvalidICCID, ctx},
		{"ICCID number", msg(ObjectMobilePlans, "notifyBalanceAddition", obj{"meta": obj{}, "iccid": 8988247000100003319}, ""), ErrInvalidJSON, ""},

		// Script names.
		{"script name call", msg(ObjectMobilePlansInlineOperations, OpSetScripts, obj{"registrationChangedScript": "alert(1)"}, ""), ErrInvalidJSON, ""},
		{"script name statement", msg(ObjectMobilePlansInlineOperations, OpSetScripts, obj{"profileActivationCompleteScript": "a;b"}, ""), ErrInvalidJSON, ""},
		{"script name not string", msg(ObjectMobilePlansInlineOperations, OpSetScripts, obj{"profileActivationCompleteScript": true}, ""), ErrInvalidJSON, ""},

		// Legacy DataMart payloads.
		{"payload object", legacy(obj{"success": true}), ErrInvalidJSON, ""},
		{"payload missing", msg(ObjectDataMart, "notifyPurchaseResult", obj{}, ""), ErrInvalidJSON, ""},
		{"payload not JSON", legacy(`{"success":tru`), ErrInvalidJSON, ""},
		{"payload JSON array", legacy(`[1]`), ErrInvalidJSON, ""},
		{"payload no success", legacy(legacyPayload(obj{"ver": "1"}, obj{})), ErrInvalidJSON, ""},
		{"payload success string", legacy(legacyPayload(obj{"success": "true"}, obj{})), ErrInvalidJSON, ""},
		{"payload no purchaseResult", legacy(legacyPayload(obj{"success": true}, nil)), ErrInvalidJSON, ""},
		{"payload purchaseResult not JSON", legacy(legacyPayload(obj{"success": true}, "{")), ErrInvalidJSON, ""},
		{"payload purchaseResult bad value", legacy(legacyPayload(obj{"success": true}, obj{"line": "Sideways"})), ErrInvalidJSON, ""},
		{"payload ver object", legacy(legacyPayload(obj{"success": true, "ver": obj{}}, obj{})), ErrInvalidJSON, ""},
		{"payload transactionId too long", legacy(legacyPayload(obj{"success": true, "transactionId": strings.Repeat("t", 65)}, obj{})), ErrInvalidJSON, ""},
		{"payload bad AC", legacy(legacyPayload(obj{"success": true, "activationCode": "LPA:" + testAC}, obj{})), ErrInvalidActivationCode, ""},
		{"payload bad ICCID", legacy(legacyPayload(obj{"success": true, "iccid": "12"}, obj{})), ErrInvalidICCID, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseMessage(tt.raw, testHost)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseMessage = %#v, %v; want %v", c, err, tt.want)
			}
			if c != nil {
				t.Errorf("call %#v returned with error", c)
			}
			var ie *InvalidError
			var oe *OriginError
			switch {
			case errors.As(err, &oe):
				if _, ok := ResultOf(err); ok {
					t.Errorf("ResultOf(%v) reports a result for a refused origin", err)
				}
				if !oe.Reported || oe.Allowed != testOrigin {
					t.Errorf("OriginError = %+v", oe)
				}
			case errors.As(err, &ie):
				r, ok := ResultOf(err)
				if !ok || r != ie.Result {
					t.Errorf("ResultOf = %v, %v; want %v", r, ok, ie.Result)
				}
				if ie.ContextID != tt.wantCtx {
					t.Errorf("ContextID = %q, want %q", ie.ContextID, tt.wantCtx)
				}
			default:
				t.Errorf("error %T is neither *OriginError nor *InvalidError", err)
			}
			if strings.Contains(err.Error(), "JO46UQDI07IKQDGG") {
				t.Errorf("error %q quotes the matching ID", err)
			}
		})
	}
}

func TestMessageParseFrameOrigin(t *testing.T) {
	good := msg(ObjectMobilePlansInlineOperations, "notifyOperationCancel", obj{}, "mp-1")
	tests := []struct {
		name   string
		m      Message
		wantOK bool
	}{
		{"right frame", Message{Raw: good, Origin: testOrigin}, true},
		{"forged message from another frame", Message{Raw: good, Origin: "https://evil.test"}, false},
		{"unknown frame", Message{Raw: good}, false},
		{"opaque frame", Message{Raw: good, Origin: "null"}, false},
		{"frame right, message claims other", Message{Raw: with(good, "origin", "https://evil.test"), Origin: testOrigin}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.m.Parse(testHost)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if _, ok := c.(*OperationCancel); !ok {
					t.Fatalf("Parse = %#v", c)
				}
				return
			}
			var oe *OriginError
			if !errors.As(err, &oe) || !errors.Is(err, ErrForeignOrigin) {
				t.Fatalf("Parse = %#v, %v; want an OriginError", c, err)
			}
		})
	}
	// The frame check comes first: a forged message never reaches the
	// payload parser, so it is refused, not invalidJson.
	_, err := Message{Raw: []byte("garbage"), Origin: "https://evil.test"}.Parse(testHost)
	if !errors.Is(err, ErrForeignOrigin) {
		t.Errorf("garbage from a foreign frame: %v", err)
	}
}

func TestAllowedHost(t *testing.T) {
	tests := []struct {
		host   string
		origin string // "" = invalid
	}{
		{"portal.contoso.test", "https://portal.contoso.test"},
		{"Portal.Contoso.Test", "https://portal.contoso.test"},
		{"portal.contoso.test:8443", "https://portal.contoso.test:8443"},
		{"127.0.0.1:8443", "https://127.0.0.1:8443"},
		{"[::1]:8443", "https://[::1]:8443"},
		{"[::1]", "https://[::1]"},
		{"", ""},
		{"https://portal.contoso.test", ""},
		{"portal.contoso.test/", ""},
		{"portal.contoso.test:0", ""},
		{"portal.contoso.test:", ""},
		{"::1", ""},
		{"[127.0.0.1]", ""},
		{"a b", ""},
		{"-a.test", ""},
	}
	for _, tt := range tests {
		got, err := allowedOrigin(tt.host)
		if tt.origin == "" {
			if err == nil {
				t.Errorf("allowedOrigin(%q) = %q, want an error", tt.host, got)
			}
			if _, perr := ParseMessage([]byte(`{}`), tt.host); perr == nil || errors.Is(perr, ErrInvalidJSON) {
				t.Errorf("ParseMessage with allowed host %q: %v, want a configuration error", tt.host, perr)
			}
			continue
		}
		if err != nil || got != tt.origin {
			t.Errorf("allowedOrigin(%q) = %q, %v; want %q", tt.host, got, err, tt.origin)
		}
	}
}

func TestInvalidErrorText(t *testing.T) {
	_, err := ParseMessage(msg(ObjectMobilePlansInlineOperations, "notifyProfileDownload",
		obj{"meta": obj{}, "activationCode": "LPA:" + testAC}, "mp-7"), testHost)
	want := `portal: invalidActivationCode in MobilePlansInlineOperations.notifyProfileDownload: bad activation code: activation code must not carry the "LPA:" prefix`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v\nwant prefix %s", err, want)
	}
	_, err = ParseMessage(msg(ObjectMobilePlans, "notifyCancelledPurchase", obj{}, ""), "portal.contoso.test")
	if err == nil || err.Error() != "portal: invalidJson in MobilePlans.notifyCancelledPurchase: purchase metadata is missing" {
		t.Errorf("error = %v", err)
	}
	oe := &OriginError{Origin: "https://evil.test", Allowed: testOrigin}
	if oe.Error() != `portal: call refused: frame origin "https://evil.test" is not "https://portal.contoso.test"` {
		t.Errorf("OriginError = %q", oe.Error())
	}
}

func TestRedactActivationCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{testAC, "1$smdp.contoso.test$JO46…(16)"},
		{"1$smdp.test$AB", "1$smdp.test$AB"},
		{"1$smdp.test$ABCDEFGH$1.2.3$1", "1$smdp.test$ABCD…(8)$…"},
		{"garbage-without-fields", "garb…(22)"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := RedactActivationCode(tt.in); got != tt.want {
			t.Errorf("RedactActivationCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheckICCID(t *testing.T) {
	tests := []struct {
		iccid string
		ok    bool
	}{
		{testICCID, true},
		{"89882470001000033190", true},
		{"898824700010000331", false},    // 18 digits
		{"898824700010000331900", false}, // 21 digits
		{"8988247000100003319F", false},  // filler not stripped
		{"1988247000100003319", false},
		{"", false},
	}
	for _, tt := range tests {
		if err := CheckICCID(tt.iccid); (err == nil) != tt.ok {
			t.Errorf("CheckICCID(%q) = %v, want ok=%v", tt.iccid, err, tt.ok)
		}
	}
}
