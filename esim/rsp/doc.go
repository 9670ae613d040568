// Package rsp holds the GSMA SGP.22 (consumer Remote SIM Provisioning)
// messages exchanged between the LPA and the eUICC's ISD-R over ES10a, ES10b
// and ES10c, together with the identifiers they carry (ICCID in EF.ICCID
// nibble-swapped BCD, EID with its SGP.29 mod-97 check digits) and the
// result and error codes with their SGP.22 names.
//
// One set of types serves both ends: the LPA encodes requests and decodes
// responses, the simulated eUICC decodes requests and encodes responses.
// Every message type has an Encode method that returns the complete DER TLV
// (outer tag included) and a DecodeXxx function that takes the complete TLV,
// checks the outer tag, tolerates unknown extra tags (SGP.22 is extensible)
// and never panics on malformed input. Encoding follows the ASN.1 module
// RSPDefinitions with AUTOMATIC TAGS: minimal two's-complement INTEGERs,
// BOOLEAN FF/00, BIT STRINGs with the unused-bits byte and trailing zero bits
// dropped, and universal tags where a SEQUENCE mixes explicit tags with
// untagged components (EUICCInfo2 ppVersion 04, sasAcreditationNumber 0C).
//
// Decoding errors wrap ErrWrongTag, ErrMissingField, ErrMalformed, ErrBadICCID,
// ErrBadEID or the esim/tlv errors, so callers can branch with errors.Is. A
// card answering with a non-zero result code is reported by the result
// types' Err methods as a *ResultError.
package rsp
