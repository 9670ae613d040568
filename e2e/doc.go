// Package e2e holds end-to-end tests of the whole Mobile Plans journey on
// the bundled stack (service/stack): the Contoso Cellular portal in real
// headless Chromium with the real bridge.js injected, the hand-back through
// the bridge, the SGP.22 download over the simulated modem's pty, and the
// results reported back into the page. It has no non-test code.
package e2e
