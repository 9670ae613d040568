// Package es9 is the JSON binding of ES9+, the interface between the LPA and
// the SM-DP+ (sgp22.md section 3): the request paths and headers, the request
// and response bodies of initiateAuthentication, authenticateClient,
// getBoundProfilePackage, handleNotification and cancelSession, and the
// function execution status with its subject and reason codes.
//
// The same types serve the LPA's HTTP client and the SM-DP+ server. Binary
// fields are ASN.1 DER values (encoded and decoded with package esim/rsp)
// carried as standard base64 through the B64 type; transaction identifiers
// are upper-case hex strings (rsp.TransactionIDString, rsp.ParseTransactionID).
//
// A function that did not execute is reported in the response header, not by
// the HTTP status; ResponseHeader.Err turns such a header into an *Error,
// whose Is method lets callers test for a Status with errors.Is.
package es9
