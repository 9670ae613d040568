package es9

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func TestRoundTrip(t *testing.T) {
	bin := func(s string) B64 { return B64(s) }
	cases := []struct {
		name string
		v    any
		ptr  func() any
	}{
		{"InitiateAuthenticationRequest", InitiateAuthenticationRequest{SMDPAddress: "smdp.example.com",
			EUICCChallenge: bin("0123456789abcdef"), EUICCInfo1: bin("\xBF\x20\x00")}, func() any { return new(InitiateAuthenticationRequest) }},
		{"InitiateAuthenticationResponse", InitiateAuthenticationResponse{Header: Success(), TransactionID: "0A0B",
			ServerSigned1: bin("\x30\x00"), ServerSignature1: bin("\x5F\x37\x00"), EUICCCIPKIDToBeUsed: bin("\x04\x00"),
			ServerCertificate: bin("\x30\x01\x00")}, func() any { return new(InitiateAuthenticationResponse) }},
		{"InitiateAuthenticationResponse/failed", InitiateAuthenticationResponse{Header: Failure(StatusInvalidSMDPAddress(), "no")},
			func() any { return new(InitiateAuthenticationResponse) }},
		{"AuthenticateClientRequest", AuthenticateClientRequest{TransactionID: "0A0B", AuthenticateServerResponse: bin("\xBF\x38\x00")},
			func() any { return new(AuthenticateClientRequest) }},
		{"AuthenticateClientResponse", AuthenticateClientResponse{Header: Success(), TransactionID: "0A0B",
			ProfileMetadata: bin("\xBF\x25\x00"), SMDPSigned2: bin("\x30\x00"), SMDPSignature2: bin("\x5F\x37\x00"),
			SMDPCertificate: bin("\x30\x00")}, func() any { return new(AuthenticateClientResponse) }},
		{"GetBoundProfilePackageRequest", GetBoundProfilePackageRequest{TransactionID: "0A0B", PrepareDownloadResponse: bin("\xBF\x21\x00")},
			func() any { return new(GetBoundProfilePackageRequest) }},
		{"GetBoundProfilePackageResponse", GetBoundProfilePackageResponse{Header: Success(), TransactionID: "0A0B",
			BoundProfilePackage: bytes.Repeat([]byte{0xBF, 0x36, 0xFF}, 1000)}, func() any { return new(GetBoundProfilePackageResponse) }},
		{"HandleNotificationRequest", HandleNotificationRequest{PendingNotification: bin("\xBF\x37\x00")},
			func() any { return new(HandleNotificationRequest) }},
		{"CancelSessionRequest", CancelSessionRequest{TransactionID: "0A0B", CancelSessionResponse: bin("\xBF\x41\x00")},
			func() any { return new(CancelSessionRequest) }},
		{"CancelSessionResponse", CancelSessionResponse{Header: Failure(StatusTransactionIDUnknown(), "")},
			func() any { return new(CancelSessionResponse) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := json.Marshal(c.v)
			if err != nil {
				t.Fatal(err)
			}
			p := c.ptr()
			if err := json.Unmarshal(b, p); err != nil {
				t.Fatalf("unmarshal %s: %v", b, err)
			}
			if got := reflect.ValueOf(p).Elem().Interface(); !reflect.DeepEqual(got, c.v) {
				t.Errorf("round trip of %s:\n got  %+v\n want %+v", b, got, c.v)
			}
		})
	}
}

// TestWireFormat checks the JSON field names and encodings of sgp22.md 3.2.
func TestWireFormat(t *testing.T) {
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"success header", CancelSessionResponse{Header: Success()},
			`{"header":{"functionExecutionStatus":{"status":"Executed-Success"}}}`},
		{"failure header", CancelSessionResponse{Header: Failure(StatusMatchingIDRefused(), "unknown code")},
			`{"header":{"functionExecutionStatus":{"status":"Failed","statusCodeData":{"subjectCode":"8.2.6","reasonCode":"3.8","message":"unknown code"}}}}`},
		{"initiateAuthentication request", InitiateAuthenticationRequest{SMDPAddress: "smdp.example.com",
			EUICCChallenge: B64{0xFF, 0xEE}, EUICCInfo1: B64{0xBF, 0x20, 0x00}},
			`{"smdpAddress":"smdp.example.com","euiccChallenge":"/+4=","euiccInfo1":"vyAA"}`},
		{"initiateAuthentication failure omits data", InitiateAuthenticationResponse{Header: Failure(StatusSVNNotSupported(), "")},
			`{"header":{"functionExecutionStatus":{"status":"Failed","statusCodeData":{"subjectCode":"8.8.3","reasonCode":"3.1"}}}}`},
		{"initiateAuthentication response", InitiateAuthenticationResponse{Header: Success(), TransactionID: "AB",
			ServerSigned1: B64{1}, ServerSignature1: B64{2}, EUICCCIPKIDToBeUsed: B64{3}, ServerCertificate: B64{4}},
			`{"header":{"functionExecutionStatus":{"status":"Executed-Success"}},"transactionId":"AB","serverSigned1":"AQ==",` +
				`"serverSignature1":"Ag==","euiccCiPKIdToBeUsed":"Aw==","serverCertificate":"BA=="}`},
		{"authenticateClient request", AuthenticateClientRequest{TransactionID: "AB", AuthenticateServerResponse: B64{1}},
			`{"transactionId":"AB","authenticateServerResponse":"AQ=="}`},
		{"authenticateClient response", AuthenticateClientResponse{Header: Success(), TransactionID: "AB",
			ProfileMetadata: B64{1}, SMDPSigned2: B64{2}, SMDPSignature2: B64{3}, SMDPCertificate: B64{4}},
			`{"header":{"functionExecutionStatus":{"status":"Executed-Success"}},"transactionId":"AB","profileMetadata":"AQ==",` +
				`"smdpSigned2":"Ag==","smdpSignature2":"Aw==","smdpCertificate":"BA=="}`},
		{"getBoundProfilePackage request", GetBoundProfilePackageRequest{TransactionID: "AB", PrepareDownloadResponse: B64{1}},
			`{"transactionId":"AB","prepareDownloadResponse":"AQ=="}`},
		{"getBoundProfilePackage response", GetBoundProfilePackageResponse{Header: Success(), TransactionID: "AB", BoundProfilePackage: B64{1}},
			`{"header":{"functionExecutionStatus":{"status":"Executed-Success"}},"transactionId":"AB","boundProfilePackage":"AQ=="}`},
		{"handleNotification request", HandleNotificationRequest{PendingNotification: B64{1}}, `{"pendingNotification":"AQ=="}`},
		{"cancelSession request", CancelSessionRequest{TransactionID: "AB", CancelSessionResponse: B64{1}},
			`{"transactionId":"AB","cancelSessionResponse":"AQ=="}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := json.Marshal(c.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != c.want {
				t.Errorf("got  %s\nwant %s", b, c.want)
			}
		})
	}
}

func TestB64Decode(t *testing.T) {
	cases := []struct {
		in   string
		want B64
		ok   bool
	}{
		{`"AQID"`, B64{1, 2, 3}, true},
		{`"AQ=="`, B64{1}, true},
		{`"AQ"`, B64{1}, true}, // missing padding
		{`"AQ\r\nID"`, B64{1, 2, 3}, true},
		{`" A Q I D\t"`, B64{1, 2, 3}, true},
		{`""`, nil, true},
		{`null`, nil, true},
		{`"-_8="`, nil, false}, // URL alphabet is not standard base64
		{`"A"`, nil, false},
		{`1`, nil, false},
		{`"AQ=\u003d"`, B64{1}, true},
	}
	for _, c := range cases {
		var b B64
		err := json.Unmarshal([]byte(c.in), &b)
		if (err == nil) != c.ok {
			t.Errorf("%s: error %v", c.in, err)
			continue
		}
		if c.ok && !bytes.Equal(b, c.want) {
			t.Errorf("%s: got %X, want %X", c.in, []byte(b), []byte(c.want))
		}
	}
	// null leaves a field nil; an absent field stays nil.
	var r HandleNotificationRequest
	if err := json.Unmarshal([]byte(`{"pendingNotification":null}`), &r); err != nil || r.PendingNotification != nil {
		t.Errorf("null: %v, %X", err, []byte(r.PendingNotification))
	}
}

func TestDecode(t *testing.T) {
	body := `{"transactionId":"0A","authenticateServerResponse":"vzgA","header":{"functionRequesterIdentifier":"x"},"extra":[1,2]}`
	r, err := Decode[AuthenticateClientRequest](strings.NewReader(body), 1024)
	if err != nil {
		t.Fatal(err)
	}
	if r.TransactionID != "0A" || !bytes.Equal(r.AuthenticateServerResponse, []byte{0xBF, 0x38, 0x00}) {
		t.Errorf("got %+v", r)
	}
	if _, err := Decode[AuthenticateClientRequest](strings.NewReader(body), int64(len(body))); err != nil {
		t.Errorf("body of exactly max bytes: %v", err)
	}
	if _, err := Decode[AuthenticateClientRequest](strings.NewReader(body), int64(len(body)-1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("body over max: %v", err)
	}
	if _, err := Decode[AuthenticateClientRequest](strings.NewReader(body), 0); err != nil {
		t.Errorf("default max: %v", err)
	}
	big := `{"pendingNotification":"` + strings.Repeat("A", DefaultMaxBody) + `"}`
	if _, err := Decode[HandleNotificationRequest](strings.NewReader(big), -1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over default max: %v", err)
	}
	for _, bad := range []string{``, `{`, `{"transactionId":1}`, `{"authenticateServerResponse":"!!"}`, `{} {}`, `[]`} {
		if _, err := Decode[AuthenticateClientRequest](strings.NewReader(bad), 1024); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: error %v, want ErrMalformed", bad, err)
		}
	}
	readErr := errors.New("connection reset")
	if _, err := Decode[AuthenticateClientRequest](iotest.ErrReader(readErr), 1024); !errors.Is(err, readErr) {
		t.Errorf("read error: %v", err)
	}
}
