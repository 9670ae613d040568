package portal

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParseMessage(f *testing.F) {
	seeds := [][]byte{
		msg(ObjectMobilePlansInlineOperations, "notifyProfileDownload", obj{"meta": metaCurrent, "activationCode": testAC, "downloadDelay": 60}, "mp-1"),
		msg(ObjectMobilePlansInlineOperations, "notifyOperationCancel", obj{}, "mp-1"),
		msg(ObjectMobilePlansInlineOperations, "notifyBalanceAddition", obj{"meta": metaCancel, "iccid": testICCID}, "mp-2"),
		msg(ObjectMobilePlansInlineOperations, OpSetScripts, obj{"registrationChangedScript": "a.b", "profileActivationCompleteScript": "c"}, ""),
		msg(ObjectMobilePlans, "notifyPurchaseWithProfileDownload", obj{"meta": metaCurrent, "activationCode": testAC, "networkRegistrationInterval": 15}, ""),
		msg(ObjectMobilePlans, "notifyPurchaseDelayedProfile", obj{"meta": metaCurrent, "profileDownloadDelayInterval": 15}, ""),
		msg(ObjectDataMart, "notifyCancelledPurchase", obj{"meta": metaCancel}, ""),
		msg(ObjectDataMartInlineProfile, "notifyInlineProfileDownload", obj{"meta": metaCurrent, "activationCode": "1$[::1]:8443$"}, ""),
		msg(ObjectDataMart, "notifyPurchaseResult", obj{"payload": legacyPayload(obj{"ver": "1", "success": true,
			"activationCode": testAC, "iccid": testICCID}, obj{"userAccount": "New", "line": "New"})}, ""),
		msg(ObjectDataMart, "notifyPurchaseResult", obj{"payload": `{"success":false,"purchaseResult":"{\"lineType\":\"Bailed\"}"}`}, ""),
		[]byte(`{"v":1,"origin":"https://evil.test"}`),
		[]byte(`{"v":1,"origin":"https://portal.contoso.test","object":"MobilePlans","op":"notifyCancelledPurchase","args":null}`),
		[]byte(`not json`),
	}
	for _, s := range seeds {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw []byte, viaFrame bool) {
		var c Call
		var err error
		if viaFrame {
			c, err = Message{Raw: raw, Origin: testOrigin}.Parse(testHost)
		} else {
			c, err = ParseMessage(raw, testHost)
		}
		if err != nil {
			var ie *InvalidError
			var oe *OriginError
			switch {
			case errors.As(err, &oe):
				if !oe.Reported || strings.EqualFold(oe.Origin, testOrigin) {
					t.Fatalf("bad refusal %+v", oe)
				}
			case errors.As(err, &ie):
				if ie.Result != ActivationInvalidJSON && ie.Result != ActivationInvalidActivationCode && ie.Result != ActivationInvalidICCID {
					t.Fatalf("result %v", ie.Result)
				}
			default:
				t.Fatalf("untyped error %v", err)
			}
			if c != nil {
				t.Fatal("call with error")
			}
			return
		}
		s := c.CallSource()
		if !strings.EqualFold(s.Origin, testOrigin) {
			t.Fatalf("accepted origin %q", s.Origin)
		}
		checkMeta := func(m Meta) {
			for _, v := range []string{string(m.UserAccount), string(m.PurchaseInstrument), string(m.Line)} {
				if v != "" && v != "new" && v != "existing" && v != "bailed" && v != "none" {
					t.Fatalf("unnormalised meta %+v", m)
				}
			}
		}
		switch c := c.(type) {
		case *ProfileDownload:
			checkMeta(c.Meta)
			if CheckActivationCode(c.ActivationCode) != nil {
				t.Fatalf("accepted bad AC %q", c.ActivationCode)
			}
			if c.DelayMinutes != nil && (*c.DelayMinutes < 0 || *c.DelayMinutes > MaxMinutes) {
				t.Fatalf("delay %d", *c.DelayMinutes)
			}
			if s.Object == ObjectMobilePlansInlineOperations && !validContextID(c.ContextID) {
				t.Fatalf("context %q", c.ContextID)
			}
		case *PurchaseWithProfileDownload:
			checkMeta(c.Meta)
			if CheckActivationCode(c.ActivationCode) != nil || c.NetworkRegistrationInterval < 0 {
				t.Fatalf("accepted %+v", c)
			}
		case *BalanceAddition:
			checkMeta(c.Meta)
			if c.ICCID != "" && CheckICCID(c.ICCID) != nil {
				t.Fatalf("accepted ICCID %q", c.ICCID)
			}
		case *LegacyPurchaseResult:
			checkMeta(c.Result)
			if c.ActivationCode != "" && CheckActivationCode(c.ActivationCode) != nil {
				t.Fatalf("accepted AC %q", c.ActivationCode)
			}
		case *ScriptNames:
			for _, n := range []string{c.Registration, c.Activation} {
				if n != "" && ValidFunctionName(n) != nil {
					t.Fatalf("accepted name %q", n)
				}
			}
		case *OperationCancel:
			if !validContextID(c.ContextID) {
				t.Fatalf("context %q", c.ContextID)
			}
		case *CancelledPurchase:
			checkMeta(c.Meta)
		case *PurchaseDelayedProfile:
			checkMeta(c.Meta)
		default:
			t.Fatalf("unknown call %T", c)
		}
	})
}

func FuzzScripts(f *testing.F) {
	f.Add("portal.onReg", "8988247000100003319", 4, true)
	f.Add("onAct", `"</script>`, 29, false)
	f.Add("a;b", "", 1, true)
	f.Add("$._", "\u2028", 31, false)
	f.Add("new.x", "\xff", 0, true)
	f.Fuzz(func(t *testing.T, fn, iccid string, v int, registration bool) {
		var s string
		var err error
		if registration {
			s, err = RegistrationScript(fn, RegistrationArgs{State: RegistrationState(v), ICCID: iccid})
		} else {
			s, err = ActivationScript(fn, ActivationArgs{Result: ActivationResult(v), ICCID: iccid})
		}
		if err != nil {
			if ValidFunctionName(fn) == nil && (registration && RegistrationState(v).Valid() || !registration && ActivationResult(v).Valid()) {
				t.Fatalf("valid input refused: %v", err)
			}
			return
		}
		if ValidFunctionName(fn) != nil {
			t.Fatalf("invalid name %q accepted", fn)
		}
		arg := splitCall(t, s, fn)
		if !strings.HasPrefix(arg, "{") || !strings.HasSuffix(arg, "}") {
			t.Fatalf("argument %q", arg)
		}
	})
}
