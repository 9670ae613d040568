// Package apdu holds the ISO 7816-4 vocabulary shared by the LPA, the modem
// backends and the simulated card: command encoding, status words, the
// logical-channel class-byte rules and the Channel interface through which
// the LPA reaches the eUICC's ISD-R.
package apdu
