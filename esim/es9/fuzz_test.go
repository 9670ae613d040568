package es9

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// seeds are bodies as real servers and clients send them (sgp22.md 3.2).
func seeds() []string {
	return []string{
		`{"header":{"functionExecutionStatus":{"status":"Executed-Success"}},"transactionId":"0A0B","serverSigned1":"MAA=",` +
			`"serverSignature1":"XzcA","euiccCiPKIdToBeUsed":"BAA=","serverCertificate":"MAA="}`,
		`{"header":{"functionExecutionStatus":{"status":"Failed","statusCodeData":{"subjectCode":"8.2.6","reasonCode":"3.8",` +
			`"subjectIdentifier":"x","message":"refused"}}}}`,
		`{"smdpAddress":"smdp.example.com","euiccChallenge":"AAECAwQFBgcICQoLDA0ODw==","euiccInfo1":"vyAA"}`,
		`{"transactionId":"0A0B","authenticateServerResponse":"vzgA\r\nvzgA"}`,
		`{"header":{"functionExecutionStatus":{"status":"Executed-Success"}},"transactionId":"0A","profileMetadata":"vyUA",` +
			`"smdpSigned2":"MAA=","smdpSignature2":"XzcA","smdpCertificate":"MAA="}`,
		`{"transactionId":"0A","prepareDownloadResponse":"vyEA"}`,
		`{"header":{"functionExecutionStatus":{"status":"Executed-WithWarning"}},"transactionId":"0A","boundProfilePackage":"vzYA"}`,
		`{"pendingNotification":"vzcA"}`,
		`{"transactionId":"0A","cancelSessionResponse":"v0EA"}`,
		`{"pendingNotification":null,"header":{"functionExecutionStatus":null}}`,
		`{"euiccChallenge":"AQ"}`,
		`[]`, `null`, `{}`,
	}
}

// fuzzJSON decodes b as a T; when that succeeds, marshalling the value and
// decoding it again must give the same value and the same JSON.
func fuzzJSON[T any](f *testing.F) {
	for _, s := range seeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Decode[T](bytes.NewReader(b), 1<<20)
		if err != nil {
			return
		}
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal %+v: %v", v, err)
		}
		v2, err := Decode[T](bytes.NewReader(enc), 1<<20)
		if err != nil {
			t.Fatalf("re-decoding %s (from %q): %v", enc, b, err)
		}
		if !reflect.DeepEqual(v, v2) {
			t.Fatalf("unstable:\n first  %+v\n second %+v", v, v2)
		}
		if enc2, _ := json.Marshal(v2); !bytes.Equal(enc, enc2) {
			t.Fatalf("re-encoding differs:\n %s\n %s", enc, enc2)
		}
	})
}

func FuzzInitiateAuthenticationRequest(f *testing.F)  { fuzzJSON[InitiateAuthenticationRequest](f) }
func FuzzInitiateAuthenticationResponse(f *testing.F) { fuzzJSON[InitiateAuthenticationResponse](f) }
func FuzzAuthenticateClientRequest(f *testing.F)      { fuzzJSON[AuthenticateClientRequest](f) }
func FuzzAuthenticateClientResponse(f *testing.F)     { fuzzJSON[AuthenticateClientResponse](f) }
func FuzzGetBoundProfilePackageRequest(f *testing.F)  { fuzzJSON[GetBoundProfilePackageRequest](f) }
func FuzzGetBoundProfilePackageResponse(f *testing.F) { fuzzJSON[GetBoundProfilePackageResponse](f) }
func FuzzHandleNotificationRequest(f *testing.F)      { fuzzJSON[HandleNotificationRequest](f) }
func FuzzCancelSessionRequest(f *testing.F)           { fuzzJSON[CancelSessionRequest](f) }
func FuzzCancelSessionResponse(f *testing.F)          { fuzzJSON[CancelSessionResponse](f) }

// FuzzHeaderErr: any header turns into nil or an *Error without panicking,
// and the error text names the function.
func FuzzHeaderErr(f *testing.F) {
	f.Add("Failed", "8.2.6", "3.8", "m", true)
	f.Add("Executed-Success", "", "", "", false)
	f.Add("", "1", "2", "", true)
	f.Fuzz(func(t *testing.T, status, subject, reason, message string, withData bool) {
		h := ResponseHeader{FunctionExecutionStatus: FunctionExecutionStatus{Status: status}}
		if withData {
			h.FunctionExecutionStatus.StatusCodeData = &StatusCodeData{SubjectCode: subject, ReasonCode: reason, Message: message}
		}
		err := h.Err("fn")
		if (err == nil) != (status == StatusSuccess || status == StatusWarning) {
			t.Fatalf("status %q: Err() = %v", status, err)
		}
		if err != nil && !bytes.HasPrefix([]byte(err.Error()), []byte("fn ")) {
			t.Fatalf("Error() = %q", err)
		}
	})
}
