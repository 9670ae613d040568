// Package saip builds and parses the unprotected profile package (UPP) of an
// eSIM profile: the SIMalliance/TCA "eUICC Profile Package: Interoperable
// Format Technical Specification" (SAIP), ASN.1 module PEDefinitions with
// AUTOMATIC TAGS. A UPP is a plain concatenation of DER-encoded
// ProfileElement values, the ProfileHeader ([0], tag A0) first and PE-End
// ([10], tag AA) last; there is no outer wrapper.
//
// Build is used by the simulated SM-DP+ to generate a profile from a Spec. The
// package it produces contains, in this order:
//
//	A0 ProfileHeader         version 2.3, profileType, ICCID (plain BCD, F-padded),
//	                         mandatory services usim+milenage, mandatory templates
//	B0 PE-MF                 MF, EF.ICCID (nibble-swapped BCD), EF.DIR (USIM entry), EF.ARR
//	A3 PE-PUKCodes           PUK1, PUK2
//	A2 PE-PINCodes           PIN1, ADM1 (global, MF context)
//	B2 PE-TELECOM            DF.TELECOM, EF.ARR, DF.PHONEBOOK
//	A1 PE-GenericFileManagement  filler: linear fixed EF.ADN files with phonebook records
//	B3 PE-USIM               ADF.USIM, EF.IMSI, EF.ARR, EF.UST, EF.SPN, EF.EST, EF.ACC, EF.AD, EF.ECC
//	B4 PE-OPT-USIM           EF.EHPLMN
//	A2 PE-PINCodes           PIN2 (local to ADF.USIM)
//	A4 PE-AKAParameter       MILENAGE with Ki and OPc
//	AA PE-End
//
// With the default Filler the package is about 12 KB, most of it phonebook
// records. Spec.ProfileName is not part of a UPP (SAIP has no field for it;
// the name travels in the SGP.22 StoreMetadata).
//
// EF contents follow 3GPP TS 31.102 / 51.011 and ETSI TS 102 221: EF.IMSI is
// a length byte followed by BCD digits behind a parity nibble, EF.SPN a
// display-condition byte and 16 bytes of GSM default alphabet (or UCS-2 with
// the 0x80 prefix of TS 102 221 Annex A), EF.AD carries the MNC length.
//
// Parser is used by the simulated eUICC. It consumes a UPP incrementally, in
// chunks cut at arbitrary byte positions (the decrypted BPP segments), keeps
// at most one profile element in memory, validates the BER structure of every
// element, and reports the ICCID from the header, the IMSI from EF.IMSI and
// the SPN from EF.SPN of the first PE-USIM. Errors wrap ErrMalformed,
// ErrTooLarge or ErrIncomplete.
package saip
