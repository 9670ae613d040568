// The Mobile Plans JavaScript bridge (mobile-plans.md 3.2). BridgeJS in
// bridge.go wraps this file in a function and defines `config` before it:
//   config.allowedHost  the operator's callback host ("host" or "host:port")
//   config.transport    dotted path from window to the host's send function
// Each call becomes ONE JSON string
//   {"v":1,"op":...,"object":...,"origin":location.origin,"args":{...},"context":"..."}
// handed to the transport function (called as a method of its parent).
// Nothing is sent, and the call throws, unless the page is
// https://<allowedHost>. The host checks the origin again: this file runs in
// the page and the page can tamper with it.

// Run once per document, even if injected twice.
if (Object.prototype.hasOwnProperty.call(window, "MobilePlansUserAccount")) {
  return;
}

// Keep our own references: page scripts run later and may replace the
// globals.
const defineProperty = Object.defineProperty;
const freeze = Object.freeze;
const stringify = JSON.stringify;
const getRandomValues = window.crypto && window.crypto.getRandomValues
  ? window.crypto.getRandomValues.bind(window.crypto) : null;
const loc = window.location;
const allowedHost = String(config.allowedHost || "");
const transportPath = String(config.transport || "").split(".");

function bridgeError(msg) {
  return new Error("Mobile Plans bridge: " + msg);
}

function checkOrigin() {
  if (allowedHost === "" || loc.protocol !== "https:" || loc.host !== allowedHost) {
    throw bridgeError("calls are accepted only from https://" + allowedHost +
      ", not from " + loc.origin);
  }
}

function resolveTransport() {
  let self = window;
  let fn = window;
  for (const p of transportPath) {
    self = fn;
    fn = (fn === null || fn === undefined) ? undefined : fn[p];
  }
  return typeof fn === "function" ? { self: self, fn: fn } : null;
}

// Resolved now when the host installed it before this script, else at the
// first call.
let transport = resolveTransport();

function newContextId() {
  if (!getRandomValues) {
    throw bridgeError("no crypto.getRandomValues for an operation context");
  }
  const b = getRandomValues(new Uint8Array(16));
  let s = "mp-";
  for (let i = 0; i < b.length; i++) {
    s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
  }
  return s;
}

// send checks the origin, serialises one message and hands it to the host.
// Arguments that JSON cannot encode (cycles, BigInt, throwing getters) are
// sent as "args":null, which the host answers with invalidJson.
function send(object, op, args, context) {
  checkOrigin();
  if (transport === null) {
    transport = resolveTransport();
    if (transport === null) {
      throw bridgeError("the host transport " + transportPath.join(".") + " is not available");
    }
  }
  const msg = { v: 1, op: op, object: object, origin: loc.origin, args: args };
  if (context !== undefined) {
    msg.context = context;
  }
  let s;
  try {
    s = stringify(msg);
  } catch (e) {
    msg.args = null;
    s = stringify(msg);
  }
  transport.fn.call(transport.self, s);
}

function opContext(id) {
  return freeze({ id: id });
}

function define(target, name, value) {
  defineProperty(target, name, { value: value, enumerable: true, writable: false, configurable: false });
}

function enumObject(names) {
  const o = {};
  for (const n of names) {
    define(o, n, n);
  }
  return freeze(o);
}

// Enum objects: members are lower-camel names whose values are the names
// themselves; the host matches values ignoring case, so pages that assign
// plain strings ("New", "Complete") work too.
const accountNames = ["new", "existing", "bailed", "none"];
const statusNames = ["complete", "serviceError", "invalidSIM", "invalidSim", "logOnFailed",
  "purchaseFailed", "clientError", "billingError", "none", "cancelled"];
const registrationNames = ["none", "deregistered", "searching", "home", "roaming", "partner", "denied"];
const activationNames = ["success", "notAuthorized", "notFound", "policyViolation",
  "insufficientSpaceOnCard", "serverFailure", "serverNotReachable", "timeoutWaitingForUserConsent",
  "incorrectConfirmationCode", "confirmationCodeMaxRetriesExceeded", "cardRemoved", "cardBusy",
  "other", "cardGeneralFailure", "confirmationCodeMissing", "invalidMatchingId",
  "noEligibleProfileForThisDevice", "operationAborted", "eidMismatch",
  "profileNotAvailableForNewBinding", "profileNotReleasedByOperator",
  "operationProhibitedByProfileClass", "profileNotPresent", "noCorrespondingRequest",
  "unknownError", "lpaInitializationError", "modemNotFound", "localSettingsAccessFailed",
  "invalidJson", "invalidActivationCode", "invalidIccid"];

for (const prefix of ["MobilePlans", "DataMart"]) {
  define(window, prefix + "UserAccount", enumObject(accountNames));
  define(window, prefix + "PurchaseInstrument", enumObject(accountNames));
  define(window, prefix + "LineType", enumObject(accountNames));
  define(window, prefix + "MoDirectStatus", enumObject(statusNames));
  define(window, prefix + "NetworkRegistrationState", enumObject(registrationNames));
}
define(window, "MobilePlansActivationError", enumObject(activationNames));
define(window, "DataMartActivationErrors", enumObject(activationNames));
define(window, "DataMartPurchaseInstrment", window.DataMartPurchaseInstrument);

// createPurchaseMetaData returns the metadata object. lineType and
// modirectStatus (spellings of the documents' examples) are aliases of line
// and moDirectStatus, so the message carries one value for each.
function createPurchaseMetaData() {
  const m = {
    userAccount: undefined,
    purchaseInstrument: undefined,
    line: undefined,
    moDirectStatus: undefined,
    planName: "",
  };
  defineProperty(m, "lineType", {
    enumerable: false,
    get: function () { return this.line; },
    set: function (v) { this.line = v; },
  });
  defineProperty(m, "modirectStatus", {
    enumerable: false,
    get: function () { return this.moDirectStatus; },
    set: function (v) { this.moDirectStatus = v; },
  });
  return m;
}

// The callback script names, shared by the three objects that have them.
const scripts = { registrationChangedScript: "", profileActivationCompleteScript: "" };

function defineScriptProperties(target, objectName) {
  for (const name of ["registrationChangedScript", "profileActivationCompleteScript"]) {
    defineProperty(target, name, {
      enumerable: true,
      configurable: false,
      get: function () { return scripts[name]; },
      set: function (v) {
        const next = {
          registrationChangedScript: scripts.registrationChangedScript,
          profileActivationCompleteScript: scripts.profileActivationCompleteScript,
        };
        next[name] = (v === null || v === undefined) ? "" : String(v);
        send(objectName, "setScripts", next);
        scripts[name] = next[name];
      },
    });
  }
}

function contextIdOf(c) {
  if (typeof c === "string") {
    return c;
  }
  if (c !== null && typeof c === "object" && typeof c.id === "string") {
    return c.id;
  }
  return undefined;
}

// The objects. An omitted optional argument is undefined and so absent
// from the message.
function purchaseObject(name, legacy) {
  const o = {};
  define(o, "createPurchaseMetaData", createPurchaseMetaData);
  define(o, "notifyPurchaseWithProfileDownload", function (meta, activationCode, networkRegistrationInterval) {
    send(name, "notifyPurchaseWithProfileDownload",
      { meta: meta, activationCode: activationCode, networkRegistrationInterval: networkRegistrationInterval });
  });
  define(o, "notifyCancelledPurchase", function (meta) {
    send(name, "notifyCancelledPurchase", { meta: meta });
  });
  define(o, "notifyBalanceAddition", function (meta, iccid) {
    send(name, "notifyBalanceAddition", { meta: meta, iccid: iccid });
  });
  define(o, "notifyPurchaseDelayedProfile", function (meta, profileDownloadDelayInterval) {
    send(name, "notifyPurchaseDelayedProfile",
      { meta: meta, profileDownloadDelayInterval: profileDownloadDelayInterval });
  });
  if (legacy) {
    define(o, "notifyPurchaseResult", function (payload) {
      send(name, "notifyPurchaseResult", { payload: payload });
    });
  }
  return freeze(o);
}

function inlineProfileObject(name) {
  const o = {};
  define(o, "notifyInlineProfileDownload", function (meta, activationCode) {
    send(name, "notifyInlineProfileDownload", { meta: meta, activationCode: activationCode });
  });
  defineScriptProperties(o, name);
  return freeze(o);
}

const inlineOperations = {};
define(inlineOperations, "notifyProfileDownload", function (meta, activationCode, downloadDelay) {
  checkOrigin();
  const id = newContextId();
  send("MobilePlansInlineOperations", "notifyProfileDownload",
    { meta: meta, activationCode: activationCode, downloadDelay: downloadDelay }, id);
  return opContext(id);
});
define(inlineOperations, "notifyOperationCancel", function (operationContext) {
  send("MobilePlansInlineOperations", "notifyOperationCancel", {}, contextIdOf(operationContext));
});
define(inlineOperations, "notifyBalanceAddition", function (meta, iccid) {
  checkOrigin();
  const id = newContextId();
  send("MobilePlansInlineOperations", "notifyBalanceAddition", { meta: meta, iccid: iccid }, id);
  return opContext(id);
});
defineScriptProperties(inlineOperations, "MobilePlansInlineOperations");
freeze(inlineOperations);

define(window, "MobilePlans", purchaseObject("MobilePlans", false));
define(window, "DataMart", purchaseObject("DataMart", true));
define(window, "MobilePlansInlineOperations", inlineOperations);
define(window, "MobilePlansInlineProfileDownload", inlineProfileObject("MobilePlansInlineProfileDownload"));
define(window, "DataMartInlineProfile", inlineProfileObject("DataMartInlineProfile"));
