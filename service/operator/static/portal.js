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
//
// In the user's own browser there is no bridge. When the launch carried
// mpcallback (#handback data-callback: http://127.0.0.1:<port>/... or
// http://[::1]:<port>/..., the app's loopback server), a small shim stands
// in for the bridge objects: each call becomes the JSON string bridge.js
// would have sent, POSTed there with fetch (mode "cors", text/plain, so
// the browser sends the page's Origin and no preflight). #bridge-status
// then goes through "sending" to "returned" ("Return to the Mobile Plans
// app to finish"), or "error" with the activation code shown.
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
    callback: data("callback"),
    key: "contoso-handback-" + data("key")
  };

  var CALLBACK_RE = /^http:\/\/(127\.0\.0\.1|\[::1\]):[1-9][0-9]{0,4}\/[A-Za-z0-9\-._~\/]*$/;

  function bridgeAbsent() {
    return typeof window.MobilePlans === "undefined" &&
      typeof window.MobilePlansInlineOperations === "undefined" &&
      typeof window.DataMart === "undefined";
  }

  function contextId(c) {
    if (c && typeof c === "object" && typeof c.id === "string") { return c.id; }
    return typeof c === "string" ? c : "";
  }

  // makeShim returns the fallback objects for the calls this page makes.
  // Each call sends the message of bridge.js ({v, op, object, origin,
  // args, context}, the same keys in the same order) to url; the fetch
  // of the last call is in shim.pending.
  function makeShim(url) {
    var sh = { pending: null };
    function newContextId() {
      var b = new Uint8Array(16);
      window.crypto.getRandomValues(b);
      var id = "mp-";
      for (var i = 0; i < b.length; i++) { id += (b[i] < 16 ? "0" : "") + b[i].toString(16); }
      return id;
    }
    function send(object, op, args, context) {
      var msg = { v: 1, op: op, object: object, origin: window.location.origin, args: args };
      if (context !== undefined) { msg.context = context; }
      var body;
      try { body = JSON.stringify(msg); } catch (e) { msg.args = null; body = JSON.stringify(msg); }
      sh.pending = window.fetch(url, {
        method: "POST", mode: "cors", credentials: "omit", cache: "no-store", redirect: "error",
        referrerPolicy: "no-referrer", headers: { "Content-Type": "text/plain;charset=UTF-8" }, body: body
      }).then(function (r) {
        if (!r.ok) { throw new Error("Mobile Plans answered HTTP " + r.status); }
      });
    }
    sh.objects = {
      MobilePlans: {
        createPurchaseMetaData: function () {
          return { userAccount: undefined, purchaseInstrument: undefined, line: undefined, moDirectStatus: undefined, planName: "" };
        },
        notifyPurchaseWithProfileDownload: function (meta, activationCode, networkRegistrationInterval) {
          send("MobilePlans", "notifyPurchaseWithProfileDownload",
            { meta: meta, activationCode: activationCode, networkRegistrationInterval: networkRegistrationInterval });
        },
        notifyCancelledPurchase: function (meta) {
          send("MobilePlans", "notifyCancelledPurchase", { meta: meta });
        }
      },
      MobilePlansInlineOperations: {
        notifyProfileDownload: function (meta, activationCode, downloadDelay) {
          var id = newContextId();
          send("MobilePlansInlineOperations", "notifyProfileDownload",
            { meta: meta, activationCode: activationCode, downloadDelay: downloadDelay }, id);
          return { id: id };
        },
        notifyBalanceAddition: function (meta, iccid) {
          var id = newContextId();
          send("MobilePlansInlineOperations", "notifyBalanceAddition", { meta: meta, iccid: iccid }, id);
          return { id: id };
        },
        notifyOperationCancel: function (operationContext) {
          send("MobilePlansInlineOperations", "notifyOperationCancel", {}, contextId(operationContext) || undefined);
        }
      },
      DataMart: {
        notifyPurchaseResult: function (payload) {
          send("DataMart", "notifyPurchaseResult", { payload: payload });
        }
      }
    };
    return sh;
  }

  // api holds the objects the page calls: the app's bridge (window), or
  // the shim when there is no bridge but a valid callback.
  var shim = bridgeAbsent() && CALLBACK_RE.test(d.callback) ? makeShim(d.callback) : null;
  var api = shim ? shim.objects : window;

  function storageGet(k) {
    try { return window.sessionStorage.getItem(k); } catch (e) { return null; }
  }
  function storageSet(k, v) {
    try { window.sessionStorage.setItem(k, v); } catch (e) { /* storage unavailable */ }
  }

  function capitalised(v) { return v ? v.charAt(0).toUpperCase() + v.slice(1) : ""; }

  function isFn(o, name) { return !!o && typeof o[name] === "function"; }

  // enumValue prefers the bridge's enum member and falls back to the
  // documented capitalised string. The shim sends the bridge's values,
  // which are the member names.
  function enumValue(enumName, member) {
    if (shim) { return member; }
    var en = window[enumName];
    if (en && typeof en === "object" && en[member] !== undefined) { return en[member]; }
    return capitalised(member);
  }

  function purchaseMeta() {
    var m = isFn(api.MobilePlans, "createPurchaseMetaData") ? api.MobilePlans.createPurchaseMetaData() : {};
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
    if (api.MobilePlansInlineOperations && typeof api.MobilePlansInlineOperations === "object") {
      return api.MobilePlansInlineOperations;
    }
    return null;
  }

  // setScripts names the progress callbacks on MobilePlansInlineOperations,
  // or on MobilePlansInlineProfileDownload (the prose's name) without it.
  function setScripts() {
    var objs = [api.MobilePlansInlineOperations, api.MobilePlansInlineProfileDownload];
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
    var mp = api.MobilePlans;
    if (d.legacy) {
      if (!isFn(api.DataMart, "notifyPurchaseResult")) { return null; }
      return ["DataMart.notifyPurchaseResult", function () { return api.DataMart.notifyPurchaseResult(legacyPayload()); }];
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
    var cancelled = d.action === "cancel" || d.action === "cancel-op";
    try {
      var result = p[1]();
      if (shim) {
        followShim(result, cancelled);
        return;
      }
      storageSet(d.key, "1");
      rememberContext(contextId(result));
      state("called", cancelled ? t("bridge.cancelled") : t("bridge.called"));
    } catch (e) {
      failed(e);
    }
  }

  function failed(e) {
    state("error", d.ac ? t("bridge.error") : t("bridge.nocancel"));
    hb.setAttribute("data-error", String(e && e.message ? e.message : e));
    showFallback();
  }

  // followShim waits for the shim's POST: the app has the call once its
  // loopback server answered 2xx.
  function followShim(result, cancelled) {
    var sent = shim.pending;
    shim.pending = null;
    if (!sent) {
      failed(new Error("nothing was sent"));
      return;
    }
    state("sending", t("bridge.sending"));
    sent.then(function () {
      storageSet(d.key, "1");
      rememberContext(contextId(result));
      state("returned", cancelled ? t("bridge.cancelled") : t("bridge.returned"));
    }, failed);
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
