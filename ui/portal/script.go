package portal

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// maxFunctionName bounds a callback function name.
const maxFunctionName = 256

// ErrBadFunctionName is wrapped by ValidFunctionName's errors.
var ErrBadFunctionName = errors.New("portal: not a JavaScript function name")

// ValidFunctionName checks that fn is a JavaScript identifier path such as
// "onRegistration" or "portal.hooks.onActivation": ASCII identifiers
// ([A-Za-z_$][A-Za-z0-9_$]*) joined by dots, at most 256 bytes, the first
// not a reserved word. Such a name can be pasted into a script as is: it can
// only name a property, never add code. (It may name any function the page
// can reach, e.g. "alert"; the page already runs its own code, so that gives
// it nothing.)
func ValidFunctionName(fn string) error {
	if fn == "" {
		return fmt.Errorf("%w: empty", ErrBadFunctionName)
	}
	if len(fn) > maxFunctionName {
		return fmt.Errorf("%w: longer than %d bytes", ErrBadFunctionName, maxFunctionName)
	}
	for i, seg := range strings.Split(fn, ".") {
		if seg == "" {
			return fmt.Errorf("%w: %q has an empty path segment", ErrBadFunctionName, truncate(fn, 60))
		}
		for j := 0; j < len(seg); j++ {
			c := seg[j]
			ok := c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 0 && c >= '0' && c <= '9'
			if !ok {
				return fmt.Errorf("%w: %q has %q at offset %d", ErrBadFunctionName, truncate(fn, 60), rune(c), j)
			}
		}
		if i == 0 && reservedWord(seg) {
			return fmt.Errorf("%w: %q is a reserved word", ErrBadFunctionName, seg)
		}
	}
	return nil
}

// reservedWord reports whether s cannot start an expression as an
// identifier: the ECMAScript reserved words, strict-mode reserved words and
// the literals.
func reservedWord(s string) bool {
	switch s {
	case "await", "break", "case", "catch", "class", "const", "continue", "debugger", "default",
		"delete", "do", "else", "enum", "export", "extends", "false", "finally", "for", "function",
		"if", "import", "in", "instanceof", "new", "null", "return", "super", "switch", "this",
		"throw", "true", "try", "typeof", "var", "void", "while", "with", "yield",
		"let", "static", "implements", "interface", "package", "private", "protected", "public":
		return true
	}
	return false
}

// RegistrationArgs is the registrationArgs JSON the page's
// registrationChangedScript receives (mobile-plans.md 3.3).
type RegistrationArgs struct {
	State RegistrationState `json:"networkRegistrationState"`
	ICCID string            `json:"iccid"`
}

// ActivationArgs is the activationArgs JSON the page's
// profileActivationCompleteScript receives (mobile-plans.md 3.3).
type ActivationArgs struct {
	Result ActivationResult `json:"activationResult"`
	ICCID  string           `json:"iccid"`
}

// RegistrationScript returns the JavaScript that calls the page's function
// fn with one argument, the registrationArgs JSON as a string:
//
//	fn("{\"networkRegistrationState\":\"home\",\"iccid\":\"89...\"}");
func RegistrationScript(fn string, args RegistrationArgs) (string, error) {
	if !args.State.Valid() {
		return "", fmt.Errorf("portal: registration script: undefined state %d", int(args.State))
	}
	return callScript(fn, args)
}

// ActivationScript returns the JavaScript that calls the page's function fn
// with one argument, the activationArgs JSON as a string.
func ActivationScript(fn string, args ActivationArgs) (string, error) {
	if !args.Result.Valid() {
		return "", fmt.Errorf("portal: activation script: undefined result %d", int(args.Result))
	}
	return callScript(fn, args)
}

// callScript encodes v as JSON, then that JSON as a JSON string, which is
// also a JavaScript string literal (encoding/json escapes the line and
// paragraph separators and <, > and &, so the literal is safe even inside an
// HTML script element).
func callScript(fn string, v any) (string, error) {
	if err := ValidFunctionName(fn); err != nil {
		return "", err
	}
	inner, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("portal: %w", err)
	}
	lit, err := json.Marshal(string(inner))
	if err != nil {
		return "", fmt.Errorf("portal: %w", err)
	}
	return fn + "(" + string(lit) + ");", nil
}
