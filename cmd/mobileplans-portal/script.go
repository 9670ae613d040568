package main

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/mobileplans/mobileplans/ui/portal"
)

// transportName is the window property the transport shim defines and
// the bridge uses as its transport.
const transportName = "__mobileplansWebKit"

// newToken returns the random secret of one helper process: the prefix
// by which the transport shim's messages are told from anything else
// posted to the message handler.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// userScript is what the web view injects at document start in the top
// frame: the transport shim, then the bridge of ui/portal (BridgeJS, the
// same bridge.js as the Chromium host) with the shim as its transport.
//
// The shim takes its references before any page script runs and defines
// window.__mobileplansWebKit(message), which posts
// token "\n" location.origin "\n" message to the "mobileplans" handler. A
// page cannot read the token (a closure variable, joined to the message by
// string concatenation only) nor change location.origin (an unforgeable
// property), so a message with the token was posted through the shim of a
// top-frame document, and carries that document's real origin. Cross-origin
// iframes see window.webkit.messageHandlers too, but not the shim (the
// script is not injected into them) nor the token.
func userScript(token, allowedHost string) string {
	prefix, _ := json.Marshal(token + "\n")
	name, _ := json.Marshal(transportName)
	shim := `(function () {
"use strict";
const handlers = window.webkit && window.webkit.messageHandlers;
const handler = handlers && handlers.mobileplans;
if (!handler || Object.prototype.hasOwnProperty.call(window, ` + string(name) + `)) {
  return;
}
const post = handler.postMessage;
const apply = Reflect.apply;
const toString = String;
const loc = window.location;
const prefix = ` + string(prefix) + `;
Object.defineProperty(window, ` + string(name) + `, {
  value: Object.freeze(function (message) {
    apply(post, handler, [prefix + loc.origin + "\n" + toString(message)]);
  }),
  enumerable: false, writable: false, configurable: false,
});
})();
`
	return shim + portal.BridgeJS(portal.BridgeConfig{AllowedHost: allowedHost, Transport: transportName})
}

// splitMessage splits a string posted to the handler into the document
// origin and the bridge message; ok is false unless it starts with the
// token.
func splitMessage(posted, token string) (docOrigin, message string, ok bool) {
	if len(posted) < len(token)+1 || subtle.ConstantTimeCompare([]byte(posted[:len(token)]), []byte(token)) != 1 ||
		posted[len(token)] != '\n' {
		return "", "", false
	}
	docOrigin, message, ok = strings.Cut(posted[len(token)+1:], "\n")
	if !ok {
		return "", "", false
	}
	return docOrigin, message, true
}
