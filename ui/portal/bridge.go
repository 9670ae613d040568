package portal

import (
	_ "embed"
	"encoding/json"
	"strings"
)

//go:embed bridge.js
var bridgeSource string

// BridgeConfig configures the injected bridge.
type BridgeConfig struct {
	// AllowedHost is the operator's callback host ("host" or "host:port",
	// no scheme): the bridge only works on https://<AllowedHost> pages.
	AllowedHost string
	// Transport is the dotted path, from window, of the host function that
	// receives each message string. It is called as a method of its parent,
	// so both a WebKit script message handler
	// ("webkit.messageHandlers.mobileplans.postMessage") and a plain global
	// function such as a CDP binding ("mobileplansHost") work.
	Transport string
}

// DefaultTransport is the transport path of a WebKit user content manager
// script message handler named "mobileplans".
const DefaultTransport = "webkit.messageHandlers.mobileplans.postMessage"

// BridgeJS returns the bridge script to run at document start in every
// frame: bridge.js wrapped in a strict-mode function, preceded by its frozen
// config. The config is JSON-encoded, so no value of cfg can add code; an
// invalid AllowedHost makes the bridge refuse every call, and a Transport
// that does not resolve to a function makes every call throw. An empty
// Transport means DefaultTransport.
func BridgeJS(cfg BridgeConfig) string {
	if cfg.Transport == "" {
		cfg.Transport = DefaultTransport
	}
	host := strings.ToLower(cfg.AllowedHost)
	if _, err := allowedOrigin(host); err != nil {
		host = ""
	}
	c, _ := json.Marshal(struct {
		V           int    `json:"v"`
		AllowedHost string `json:"allowedHost"`
		Transport   string `json:"transport"`
	}{MessageVersion, host, cfg.Transport})
	var b strings.Builder
	b.WriteString("(function () {\n\"use strict\";\nconst config = Object.freeze(")
	b.Write(c)
	b.WriteString(");\n")
	b.WriteString(bridgeSource)
	b.WriteString("\n})();\n")
	return b.String()
}
