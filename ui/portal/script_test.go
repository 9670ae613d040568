package portal

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestValidFunctionName(t *testing.T) {
	tests := []struct {
		fn string
		ok bool
	}{
		{"onRegistration", true},
		{"portal.hooks.onActivation", true},
		{"$", true},
		{"_cb1", true},
		{"window.portal.$cb", true},
		{"a.delete", true}, // a reserved word is a valid property name
		{strings.Repeat("a", 256), true},

		{"", false},
		{strings.Repeat("a", 257), false},
		{"alert(1)", false},
		{"a;alert(1)", false},
		{"a.b()", false},
		{"a//", false},
		{"a b", false},
		{"a\nb", false},
		{"a\u2028b", false},
		{"a..b", false},
		{".a", false},
		{"a.", false},
		{"a['b']", false},
		{"a-b", false},
		{"1abc", false},
		{"a.1b", false},
		{"ñ", false},
		{`a"b`, false},
		{"a`b`", false},
		{"this.x", false},
		{"new", false},
		{"delete.x", false},
		{"typeof", false},
		{"true", false},
		{"function", false},
		{"a\x00", false},
	}
	for _, tt := range tests {
		err := ValidFunctionName(tt.fn)
		if tt.ok != (err == nil) {
			t.Errorf("ValidFunctionName(%q) = %v, want ok=%v", tt.fn, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadFunctionName) {
			t.Errorf("ValidFunctionName(%q) error %v does not wrap ErrBadFunctionName", tt.fn, err)
		}
	}
}

// splitCall checks that script is exactly fn(<JSON string literal>); and
// returns the string the function receives.
func splitCall(t testing.TB, script, fn string) string {
	t.Helper()
	if !strings.HasPrefix(script, fn+"(") || !strings.HasSuffix(script, ");") {
		t.Fatalf("script %q is not a call of %s", script, fn)
	}
	lit := script[len(fn)+1 : len(script)-2]
	var arg string
	if err := json.Unmarshal([]byte(lit), &arg); err != nil {
		t.Fatalf("argument %s is not one JSON string: %v", lit, err)
	}
	if strings.ContainsAny(lit, "\n\r\u2028\u2029<>") {
		t.Errorf("literal %q has a line terminator or an HTML bracket", lit)
	}
	return arg
}

func TestRegistrationScript(t *testing.T) {
	for _, st := range RegistrationStates() {
		s, err := RegistrationScript("portal.onReg", RegistrationArgs{State: st, ICCID: testICCID})
		if err != nil {
			t.Fatalf("%v: %v", st, err)
		}
		arg := splitCall(t, s, "portal.onReg")
		want := `{"networkRegistrationState":"` + st.String() + `","iccid":"` + testICCID + `"}`
		if arg != want {
			t.Errorf("%v: argument %s, want %s", st, arg, want)
		}
	}
	got, err := RegistrationScript("onReg", RegistrationArgs{State: RegistrationHome, ICCID: testICCID})
	if err != nil {
		t.Fatal(err)
	}
	if want := `onReg("{\"networkRegistrationState\":\"home\",\"iccid\":\"8988247000100003319\"}");`; got != want {
		t.Errorf("script %s\nwant   %s", got, want)
	}
	if _, err := RegistrationScript("onReg", RegistrationArgs{}); err == nil {
		t.Error("zero state accepted")
	}
	if _, err := RegistrationScript("onReg(1)", RegistrationArgs{State: RegistrationHome}); !errors.Is(err, ErrBadFunctionName) {
		t.Errorf("bad name: %v", err)
	}
}

func TestActivationScriptQuoting(t *testing.T) {
	tests := []struct {
		name  string
		iccid string
	}{
		{"plain", testICCID},
		{"empty", ""},
		{"quotes", `8988"); alert(1); ("`},
		{"backslashes", `\\\"\u0022`},
		{"script end tag", `</script><script>alert(1)</script>`},
		{"line separators", "a\u2028b\u2029c\nd\re"},
		{"control", "\x00\x1f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ActivationScript("hooks.onAct", ActivationArgs{Result: ActivationInvalidActivationCode, ICCID: tt.iccid})
			if err != nil {
				t.Fatal(err)
			}
			arg := splitCall(t, s, "hooks.onAct")
			var back struct {
				Result string `json:"activationResult"`
				ICCID  string `json:"iccid"`
			}
			if err := json.Unmarshal([]byte(arg), &back); err != nil {
				t.Fatalf("argument %q is not JSON: %v", arg, err)
			}
			if back.Result != "invalidActivationCode" || back.ICCID != tt.iccid {
				t.Errorf("decoded %+v", back)
			}
		})
	}
	for _, bad := range []string{"", "a;b", "x=1", "f)(", "alert(document.cookie)//"} {
		if _, err := ActivationScript(bad, ActivationArgs{Result: ActivationSuccess}); !errors.Is(err, ErrBadFunctionName) {
			t.Errorf("ActivationScript(%q) = %v, want ErrBadFunctionName", bad, err)
		}
	}
	if _, err := ActivationScript("f", ActivationArgs{Result: 99}); err == nil {
		t.Error("undefined result accepted")
	}
}
