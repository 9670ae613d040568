package operator

import "time"

// es2CleanupTimeout bounds the cancelOrder that undoes a half-done order.
const es2CleanupTimeout = 10 * time.Second

// maskICCID keeps the issuer part and the last four digits of an ICCID for
// logs.
func maskICCID(s string) string {
	if len(s) <= 10 {
		return s
	}
	return s[:6] + "…" + s[len(s)-4:]
}

// maskEID keeps the EUM prefix (8 digits) of an EID for logs.
func maskEID(s string) string {
	if len(s) <= 8 {
		return s
	}
	return s[:8] + "…"
}

// maskSecret keeps the first four characters of a matching ID or
// activation code for logs.
func maskSecret(s string) string {
	if len(s) <= 4 {
		return s
	}
	return s[:4] + "…"
}
