// Package lpa is the Local Profile Assistant's side of SGP.22: an ES10
// client that talks to the eUICC's ISD-R over an apdu.Channel.
//
// The Client owns the ES10 transport: it splits each DER request into
// STORE DATA blocks, collects the response with GET RESPONSE, re-sends on
// 6Cxx, falls back to a smaller block size for cards that refuse 255-byte
// blocks, and re-opens the logical channel after a card reset (retrying
// read-only functions once). On top of that it offers one method per ES10a/b/c
// function, decoding responses with package rsp and turning card result
// codes into *rsp.ResultError.
//
// It also runs the SGP.22 profile download (Download: common mutual
// authentication with the SM-DP+ over ES9+ (ES9Client, TLS always verified),
// PrepareDownload, the segmented load of the bound profile package, with
// progress events and cancellation of the session on both sides on any
// failure), parses activation codes (ParseActivationCode), keeps a BPP for
// the one case where a load can be resumed (BPPCache), and delivers pending
// notifications (ProcessNotifications), removing each from the eUICC only
// after its SM-DP+ acknowledged it.
package lpa
