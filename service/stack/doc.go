// Package stack starts the bundled network side on loopback so that the
// whole Mobile Plans journey runs with no hardware and no outside service:
// the SM-DP+ (service/smdp) with the SGP.26-shaped test PKI, the Mobile
// Plans discovery service (service/discovery) with TLS from a generated web
// CA (service/webca), and a simulated modem with a PKI-certified simulated
// eUICC served on a real pseudo-terminal. Every endpoint uses real TLS;
// clients trust the generated CAs explicitly (Stack.WebCA.Pool(),
// Stack.PKI.RootPool(), the PEM files listed in Stack.Endpoints).
//
// State (PKIs, databases, the eUICC) lives in Config.Dir, so a stopped stack
// restarts with the same profiles and orders. Close stops everything.
package stack
