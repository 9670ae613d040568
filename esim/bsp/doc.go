// Package bsp implements the protection of a Bound Profile Package (BPP) as
// defined by GSMA SGP.22: the SCP03t / BSP secure channel.
//
// It covers both ends of the channel:
//
//   - key agreement: ECKA on P-256 (ECKA) and the ANSI X9.63 KDF with SHA-256
//     that turns the shared secret into the initial MAC chaining value,
//     S-ENC and S-MAC (DeriveSessionKeys);
//   - segment protection: AES-CBC with a counter-derived ICV and an AES-CMAC
//     chain over all segments (Protector on the SM-DP+ side, Unprotector on
//     the eUICC side), with RFC 4493 AES-CMAC implemented in CMAC;
//   - the ReplaceSessionKeys request (BF26) used for pre-protected profiles;
//   - the InitialiseSecureChannel request (BF23) and the data its smdpSign
//     signature covers;
//   - BPP assembly (BuildBPP, SplitProfile) and the LPA's segmentation of a
//     BPP into ES10b.LoadBoundProfilePackage transfers (Segments);
//   - the cryptographic part of the eUICC's LoadBoundProfilePackage state
//     machine (Unwrapper): a streaming parser that checks the order of the
//     BPP elements, verifies and decrypts every segment, switches keys on
//     ReplaceSessionKeys and reports failures with their SGP.22
//     bppCommandId and errorReason.
//
// Only AES-128 keys (key type 0x88, key length 0x10) are supported, which is
// what SGP.22 uses. Key material never appears in error messages or logs;
// SessionKeys formats itself as a redacted placeholder.
package bsp
