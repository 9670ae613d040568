// Package portal is the host side of the Mobile Plans JavaScript bridge: the
// script a web view injects into the operator's portal (bridge.js, see
// BridgeJS), the parser that turns the bridge's messages into typed calls
// (ParseMessage, Message.Parse), and the builders of the scripts that report
// registration and activation results back into the page
// (RegistrationScript, ActivationScript). It is pure Go; the web views that
// run the script live elsewhere (ui/portal/chromium drives headless
// Chromium for tests).
//
// # The bridge
//
// bridge.js defines, at document start, the objects of mobile-plans.md 3.2:
// MobilePlans (createPurchaseMetaData, notifyPurchaseWithProfileDownload,
// notifyCancelledPurchase, notifyBalanceAddition, notifyPurchaseDelayedProfile),
// MobilePlansInlineOperations (notifyProfileDownload, notifyOperationCancel,
// notifyBalanceAddition and the registrationChangedScript /
// profileActivationCompleteScript name properties),
// MobilePlansInlineProfileDownload (notifyInlineProfileDownload and the same
// two properties, shared with MobilePlansInlineOperations), the legacy
// DataMart (the MobilePlans methods plus notifyPurchaseResult) and
// DataMartInlineProfile, and the enum objects MobilePlansUserAccount,
// MobilePlansPurchaseInstrument, MobilePlansLineType, MobilePlansMoDirectStatus,
// MobilePlansNetworkRegistrationState, MobilePlansActivationError and their
// DataMart* twins (DataMartActivationErrors, and DataMartPurchaseInstrment with
// the documents' typo). Enum members are lower-camel and their values are
// their names ("new", "cancelled", "home"); the host matches values ignoring
// case, so pages that assign "New" or "Complete" work too. The metadata
// object from createPurchaseMetaData has line and moDirectStatus, with
// lineType and modirectStatus as aliases; the host also accepts either
// spelling in plain objects.
//
// notifyProfileDownload and MobilePlansInlineOperations.notifyBalanceAddition
// return an operation context {id} made by the bridge ("mp-" and 32 hex
// digits); notifyOperationCancel takes that object (or its id).
//
// # Message scheme
//
// Every call, and every assignment of a *Script property, sends ONE JSON
// string through the transport function (BridgeConfig.Transport, a dotted
// path from window called as a method of its parent, so both
// window.webkit.messageHandlers.<name>.postMessage and a CDP binding
// function work):
//
//	{"v":1,"object":"MobilePlansInlineOperations","op":"notifyProfileDownload",
//	 "origin":"https://portal.contoso.test",
//	 "args":{"meta":{...},"activationCode":"1$smdp.example$ABC","downloadDelay":60},
//	 "context":"mp-5f0c..."}
//
// object is the JS object the page called and op the method name, or
// "setScripts" for a *Script assignment (args then holds both current names,
// registrationChangedScript and profileActivationCompleteScript). args holds
// the call's arguments by their documented names: meta, activationCode,
// downloadDelay, iccid, networkRegistrationInterval,
// profileDownloadDelayInterval, and payload (the string given to
// DataMart.notifyPurchaseResult); an omitted argument is absent. context is
// the operation context the message is about: the new one for the calls
// that return one, the one to cancel for notifyOperationCancel. When the
// arguments cannot be serialised, args is null and the host answers
// invalidJson.
//
// # Origin checks
//
// The bridge throws, and sends nothing, unless location.protocol is https:
// and location.host equals the configured callback host. That check runs in
// the page, which can tamper with it, so the host checks again: ParseMessage
// refuses a message whose "origin" is not https://<allowed host>, and
// Message.Parse first compares the frame origin that the browser itself
// reported with it. Refusals are *OriginError and are never reported to the
// page.
//
// # Errors the page hears about
//
// A call from the right origin that cannot be acted upon is an
// *InvalidError whose Result is the activation result the app reports
// through profileActivationCompleteScript: invalidJson (malformed message,
// arguments or metadata), invalidActivationCode (not 1$<SM-DP+
// address>$<matching ID>, an "LPA:" prefix, or a confirmation code
// required; mobile-plans.md 3.4) or invalidIccid.
//
// # Reporting back
//
// RegistrationScript and ActivationScript build `fn("<JSON>");`: the page's
// function fn (an identifier path, checked by ValidFunctionName) called with
// one argument, the registrationArgs or activationArgs JSON as a string
// literal (the JSON encoded twice).
package portal
