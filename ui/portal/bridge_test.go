package portal

import (
	"encoding/json"
	"strings"
	"testing"
)

// bridgeConfig extracts the config object BridgeJS put in front of bridge.js.
func bridgeConfig(t *testing.T, js string) map[string]any {
	t.Helper()
	const head = "(function () {\n\"use strict\";\nconst config = Object.freeze("
	if !strings.HasPrefix(js, head) || !strings.HasSuffix(js, "\n})();\n") {
		t.Fatalf("unexpected wrapper: %.120q", js)
	}
	rest := js[len(head):]
	end := strings.Index(rest, ");\n")
	if end < 0 {
		t.Fatal("config not terminated")
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(rest[:end]), &cfg); err != nil {
		t.Fatalf("config %q is not JSON: %v", rest[:end], err)
	}
	if !strings.HasPrefix(rest[end+3:], bridgeSource) {
		t.Error("bridge.js does not follow the config")
	}
	return cfg
}

func TestBridgeJSConfig(t *testing.T) {
	tests := []struct {
		name          string
		cfg           BridgeConfig
		wantHost      string
		wantTransport string
	}{
		{"defaults", BridgeConfig{AllowedHost: "portal.contoso.test"}, "portal.contoso.test", DefaultTransport},
		{"case and port", BridgeConfig{AllowedHost: "Portal.Contoso.TEST:8443", Transport: "mobileplansHost.postMessage"},
			"portal.contoso.test:8443", "mobileplansHost.postMessage"},
		{"injection in host", BridgeConfig{AllowedHost: `x"});alert(1);({"`, Transport: "t"}, "", "t"},
		{"script end tag in host", BridgeConfig{AllowedHost: "</script><script>alert(1)</script>"}, "", DefaultTransport},
		{"URL as host", BridgeConfig{AllowedHost: "https://portal.contoso.test"}, "", DefaultTransport},
		{"injection in transport", BridgeConfig{AllowedHost: "a.test", Transport: `x")});alert(1);//`}, "a.test", `x")});alert(1);//`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := BridgeJS(tt.cfg)
			cfg := bridgeConfig(t, js)
			if cfg["allowedHost"] != tt.wantHost || cfg["transport"] != tt.wantTransport || cfg["v"] != float64(MessageVersion) {
				t.Errorf("config = %v", cfg)
			}
		})
	}
}

// TestBridgeJSDefinesDocumentedNames guards against a rename in bridge.js:
// each name of mobile-plans.md 3.2 must be defined (behaviour is tested in
// chromium).
func TestBridgeJSDefinesDocumentedNames(t *testing.T) {
	for _, name := range []string{
		`"MobilePlans"`, `"DataMart"`, `"MobilePlansInlineOperations"`, `"MobilePlansInlineProfileDownload"`,
		`"DataMartInlineProfile"`, `prefix + "UserAccount"`, `prefix + "PurchaseInstrument"`, `prefix + "LineType"`,
		`prefix + "MoDirectStatus"`, `prefix + "NetworkRegistrationState"`, `"MobilePlansActivationError"`,
		`"DataMartActivationErrors"`, `"DataMartPurchaseInstrment"`,
		`"createPurchaseMetaData"`, `"notifyPurchaseWithProfileDownload"`, `"notifyCancelledPurchase"`,
		`"notifyBalanceAddition"`, `"notifyPurchaseDelayedProfile"`, `"notifyPurchaseResult"`,
		`"notifyInlineProfileDownload"`, `"notifyProfileDownload"`, `"notifyOperationCancel"`,
		`"registrationChangedScript"`, `"profileActivationCompleteScript"`, `"lineType"`, `"modirectStatus"`,
	} {
		if !strings.Contains(bridgeSource, name) {
			t.Errorf("bridge.js lacks %s", name)
		}
	}
	for _, r := range ActivationResults() {
		if !strings.Contains(bridgeSource, `"`+r.String()+`"`) {
			t.Errorf("bridge.js lacks activation result %q", r)
		}
	}
}
