// Contoso Cellular portal: hands the order to the Mobile Plans app.
//
// The app injects the bridge objects (MobilePlans, MobilePlansInlineOperations,
// DataMart, the enums); this page only calls them, after checking they exist.
// What to call comes from the data-* attributes of #handback; the outcome is
// shown in #bridge-status (data-state: pending, called, unavailable, error,
// again), #bridge-call (the function called) and #operation-context. The
// app reports progress through the global functions named in
// registrationChangedScript and profileActivationCompleteScript, which fill
// #registration-status / #registration-json and #activation-status /
// #activation-json.
(function () {
  "use strict";

  var REGISTRATION_FN = "contosoRegistrationChanged";
  var ACTIVATION_FN = "contosoProfileActivationComplete";

  function el(id) { return document.getElementById(id); }

  var strings = {};
  try {
    var s = el("mp-strings");
    if (s) { strings = JSON.parse(s.textContent || "{}") || {}; }
  } catch (e) { strings = {}; }

  function t(key, vars) {
    var m = Object.prototype.hasOwnProperty.call(strings, key) ? String(strings[key]) : "";
    if (vars) {
      Object.keys(vars).forEach(function (k) { m = m.split("{" + k + "}").join(String(vars[k])); });
    }
    return m;
  }

  function setText(id, text) {
    var e = el(id);
    if (e) { e.textContent = text; }
  }

  function parseArgs(arg) {
    if (typeof arg === "string") {
      try { return JSON.parse(arg) || {}; } catch (e) { return {}; }
    }
    return (arg && typeof arg === "object") ? arg : {};
  }

  function lower(v) { return String(v === undefined || v === null ? "" : v).toLowerCase(); }

  // The app calls these with one JSON string argument (registrationArgs,
  // activationArgs).
  window[REGISTRATION_FN] = function (json) {
    var a = parseArgs(json);
    var state = lower(a.networkRegistrationState);
    var e = el("registration-status");
    if (e) {
      e.setAttribute("data-state", state);
      e.setAttribute("data-iccid", String(a.iccid || ""));
      e.textContent = t("reg." + state) || t("reg.other", { state: state });
    }
    setText("registration-json", typeof json === "string" ? json : JSON.stringify(json));
  };

  window[ACTIVATION_FN] = function (json) {
    var a = parseArgs(json);
    var result = String(a.activationResult === undefined ? "" : a.activationResult);
    var e = el("activation-status");
    if (e) {
      e.setAttribute("data-result", result);
      e.setAttribute("data-iccid", String(a.iccid || ""));
      e.textContent = lower(result) === "success" ? t("act.success") : t("act.failed", { result: result });
    }
    setText("activation-json", typeof json === "string" ? json : JSON.stringify(json));
  };

  var hb = el("handback");
  if (!hb) { return; }

  function data(name) { return hb.getAttribute("data-" + name) || ""; }

  var d = {
    action: data("action"),
    legacy: data("legacy") === "1",
    ac: data("ac"),
    planName: data("plan-name"),
    delay: parseInt(data("delay"), 10) || 0,
    interval: parseInt(data("interval"), 10) || 0,
    iccid: data("iccid"),
    userAccount: data("user-account"),
    instrument: data("purchase-instrument"),
    line: data("line"),
    status: data("status"),
    transactionId: data("transaction-id"),
    context: data("context"),
    key: "contoso-handback-" + data("key")
  };

  function storageGet(k) {
    try { return window.sessionStorage.getItem(k); } catch (e) { return null; }
  }
  function storageSet(k, v) {
    try { window.sessionStorage.setItem(k, v); } catch (e) { /* storage unavailable */ }
  }

  function capitalised(v) { return v ? v.charAt(0).toUpperCase() + v.slice(1) : ""; }

  function isFn(o, name) { return !!o && typeof o[name] === "function"; }

  // enumValue prefers the bridge's enum member and falls back to the
  // documented capitalised string.
  function enumValue(enumName, member) {
    var en = window[enumName];
    if (en && typeof en === "object" && en[member] !== undefined) { return en[member]; }
    return capitalised(member);
  }

  function purchaseMeta() {
    var m = isFn(window.MobilePlans, "createPurchaseMetaData") ? window.MobilePlans.createPurchaseMetaData() : {};
    m.userAccount = enumValue("MobilePlansUserAccount", d.userAccount);
    m.purchaseInstrument = enumValue("MobilePlansPurchaseInstrument", d.instrument);
    m.line = enumValue("MobilePlansLineType", d.line);
    m.moDirectStatus = enumValue("MobilePlansMoDirectStatus", d.status);
    m.planName = d.planName;
    return m;
  }

  // legacyPayload is the JSON string of DataMart.notifyPurchaseResult with
  // purchaseResult itself a JSON string (mobile-plans.md 3.2).
  function legacyPayload() {
    var ok = d.action !== "cancel";
    var result = {
      userAccount: capitalised(d.userAccount),
      purchaseInstrument: capitalised(d.instrument),
      line: capitalised(d.line),
      moDirectStatus: capitalised(d.status),
      planName: ok ? d.planName : ""
    };
    return JSON.stringify({
      ver: "1",
      purchaseResult: JSON.stringify(result),
      success: ok,
      transactionId: d.transactionId,
      activationCode: ok ? d.ac : "",
      iccid: ok ? d.iccid : ""
    });
  }

  function inlineObject() {
    if (window.MobilePlansInlineOperations && typeof window.MobilePlansInlineOperations === "object") {
      return window.MobilePlansInlineOperations;
    }
    return null;
  }

  // setScripts names the progress callbacks on MobilePlansInlineOperations,
  // or on MobilePlansInlineProfileDownload (the prose's name) without it.
  function setScripts() {
    var objs = [window.MobilePlansInlineOperations, window.MobilePlansInlineProfileDownload];
    for (var i = 0; i < objs.length; i++) {
      var o = objs[i];
      if (o && typeof o === "object" && "registrationChangedScript" in o) {
        o.registrationChangedScript = REGISTRATION_FN;
        o.profileActivationCompleteScript = ACTIVATION_FN;
        return;
      }
    }
  }

  function state(s, text) {
    var e = el("bridge-status");
    if (e) {
      e.setAttribute("data-state", s);
      e.textContent = text;
    }
  }

  function showFallback() {
    var f = el("fallback");
    if (f) { f.hidden = false; }
  }

  function contextId(c) {
    if (c && typeof c === "object" && typeof c.id === "string") { return c.id; }
    return typeof c === "string" ? c : "";
  }

  function rememberContext(id) {
    if (!id) { return; }
    setText("operation-context", id);
    var input = el("cancel-scheduled-context");
    if (input) { input.value = id; }
    storageSet(d.key + "-context", id);
  }

  // plan returns [name of the function, thunk] for the action, or null
  // when the bridge lacks it.
  function plan() {
    var inline = inlineObject();
    var mp = window.MobilePlans;
    if (d.legacy) {
      if (!isFn(window.DataMart, "notifyPurchaseResult")) { return null; }
      return ["DataMart.notifyPurchaseResult", function () { return window.DataMart.notifyPurchaseResult(legacyPayload()); }];
    }
    switch (d.action) {
      case "download":
        if (!isFn(inline, "notifyProfileDownload")) { return null; }
        return ["MobilePlansInlineOperations.notifyProfileDownload", function () {
          setScripts();
          return inline.notifyProfileDownload(purchaseMeta(), d.ac);
        }];
      case "deferred":
        if (!isFn(inline, "notifyProfileDownload")) { return null; }
        return ["MobilePlansInlineOperations.notifyProfileDownload", function () {
          setScripts();
          return inline.notifyProfileDownload(purchaseMeta(), d.ac, d.delay);
        }];
      case "async":
        if (!isFn(mp, "notifyPurchaseWithProfileDownload")) { return null; }
        return ["MobilePlans.notifyPurchaseWithProfileDownload", function () {
          setScripts();
          return mp.notifyPurchaseWithProfileDownload(purchaseMeta(), d.ac, d.interval);
        }];
      case "balance":
        if (!isFn(inline, "notifyBalanceAddition")) { return null; }
        return ["MobilePlansInlineOperations.notifyBalanceAddition", function () {
          setScripts();
          return d.iccid ? inline.notifyBalanceAddition(purchaseMeta(), d.iccid)
            : inline.notifyBalanceAddition(purchaseMeta());
        }];
      case "cancel":
        if (!isFn(mp, "notifyCancelledPurchase")) { return null; }
        return ["MobilePlans.notifyCancelledPurchase", function () { return mp.notifyCancelledPurchase(purchaseMeta()); }];
      case "cancel-op":
        if (!isFn(inline, "notifyOperationCancel")) { return null; }
        return ["MobilePlansInlineOperations.notifyOperationCancel", function () {
          return inline.notifyOperationCancel({ id: d.context });
        }];
    }
    return null;
  }

  function handBack() {
    var p = plan();
    if (!p) {
      state("unavailable", d.ac ? t("bridge.missing") : t("bridge.nocancel"));
      showFallback();
      return;
    }
    setText("bridge-call", p[0]);
    try {
      var result = p[1]();
      storageSet(d.key, "1");
      rememberContext(contextId(result));
      state("called", d.action === "cancel" || d.action === "cancel-op" ? t("bridge.cancelled") : t("bridge.called"));
    } catch (e) {
      state("error", d.ac ? t("bridge.error") : t("bridge.nocancel"));
      hb.setAttribute("data-error", String(e && e.message ? e.message : e));
      showFallback();
    }
  }

  var again = el("handback-again");
  if (again) {
    again.addEventListener("click", function () { handBack(); });
  }

  if (storageGet(d.key)) {
    // A reload: the app has the order already; offer to hand it over again.
    state("again", t("bridge.again"));
    rememberContext(storageGet(d.key + "-context") || "");
    if (again && d.action !== "cancel" && d.action !== "cancel-op") { again.hidden = false; }
    return;
  }
  handBack();
})();
