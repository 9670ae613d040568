// Package webca is the small web PKI of the bundled service stack: one
// generated ECDSA P-256 certificate authority that issues the TLS server
// certificates of the discovery service and the operator (portal, MO API)
// and the client certificates used for mutual TLS between them. Clients
// trust the CA explicitly through Pool; nothing here weakens verification.
// (The SM-DP+ uses the SGP.26-shaped PKI of esim/pki instead.)
package webca
