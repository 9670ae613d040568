//go:build race

package e2e

// raceBuild: this test binary has the race detector. The binaries the
// tests build then have it too: they share the packages `go test -race`
// compiled (a cold CI run builds the desktop app in 14 s instead of
// 237 s), and a data race in the real app fails the test.
const raceBuild = true
