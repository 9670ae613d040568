package operator

import (
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mobileplans/mobileplans/esim/rsp"
)

func TestParseLaunch(t *testing.T) {
	tests := []struct {
		name  string
		query string
		hdr   map[string]string
		want  Launch
	}{
		{
			name:  "documented eSIM example",
			query: "market=US&location=US&transactionId=%2F7RBTuSJt02OZbX8.4&eid=89033023422130000000000199055797&imei=001102000315468&iccids=8988247000101867183,8988247000103824828",
			want: Launch{EID: "89033023422130000000000199055797", ICCIDs: []string{"8988247000101867183", "8988247000103824828"},
				IMEI: "001102000315468", Location: "US", Market: "US", TransactionID: "/7RBTuSJt02OZbX8.4"},
		},
		{
			name:  "documented physical SIM example",
			query: "iccid=8988247000100003319&imei=001102000311608&market=us&transactionId=waoigFfX00yGH3Vb.1&location=us",
			want: Launch{ICCID: "8988247000100003319", IMEI: "001102000311608", Location: "US", Market: "US",
				TransactionID: "waoigFfX00yGH3Vb.1"},
		},
		{
			name:  "names in any case, unknown ignored, trailing F, duplicates",
			query: "EID=" + testEID + "&ICCIDS=8988247000101867183F,8988247000101867183&Legacy=TRUE&phoneNumber=1&countryCode=US",
			want:  Launch{EID: testEID, ICCIDs: []string{"8988247000101867183"}, Legacy: true},
		},
		{
			name:  "bad values dropped",
			query: "eid=1234&iccid=12ab&imei=1&location=XX&market=USA&transactionId=" + strings.Repeat("x", 65) + "&iccids=1,8988247000101867183",
			want: Launch{ICCIDs: []string{"8988247000101867183"},
				Dropped: []string{"eid", "iccids", "iccid", "imei", "location", "market", "transactionId"}},
		},
		{
			name:  "EID with wrong check digits",
			query: "eid=89049032123451234512345678901234",
			want:  Launch{Dropped: []string{"eid"}},
		},
		{
			name:  "malformed query keeps the good pairs",
			query: "eid=" + testEID + "&x=%zz",
			want:  Launch{EID: testEID, Dropped: []string{"query"}},
		},
		{
			name:  "error headers",
			query: "",
			hdr: map[string]string{HeaderLPAErrorCodes: " ServerFailure , ServerNotReachable,",
				HeaderLPAErrorTimeStamps: "5/18/2018 11:17:23 PM, <b>bad</b>", HeaderLPAErrorICCIDs: "8988247000101867183F"},
			want: Launch{Error: &LPAError{Codes: []string{"ServerFailure", "ServerNotReachable"},
				TimeStamps: []string{"5/18/2018 11:17:23 PM"}, ICCID: "8988247000101867183"}},
		},
		{
			name:  "error headers without codes are ignored",
			query: "",
			hdr:   map[string]string{HeaderLPAErrorICCIDs: "8988247000101867183"},
			want:  Launch{},
		},
		{
			name:  "odd codes become Other",
			query: "",
			hdr:   map[string]string{HeaderLPAErrorCodes: "Server Failure,<x>," + strings.Repeat("A", 65)},
			want:  Launch{Error: &LPAError{Codes: []string{"Other", "Other", "Other"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.hdr {
				h.Set(k, v)
			}
			got := ParseLaunch(tc.query, h)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseLaunch:\n got %+v (error %+v)\nwant %+v (error %+v)", got, got.Error, tc.want, tc.want.Error)
			}
		})
	}
}

func TestAcceptLanguage(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"", "en"}, {"de", "de"}, {"de-AT", "de"}, {"FR-ca", "fr"}, {"en-US,en;q=0.9", "en"},
		{"it;q=1, de;q=0.2, fr;q=0.3", "fr"}, {"de;q=0, fr;q=0.1", "fr"}, {"*", "en"}, {"ja, *;q=0.1", "en"},
		{"de;q=abc, fr;q=0.5", "fr"}, {"de;q=2", "en"}, {"pt-BR, de-DE;q=0.8", "de"}, {";;;,,,", "en"},
	} {
		if got := acceptLanguage(tc.header, languages()); got != tc.want {
			t.Errorf("acceptLanguage(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

func TestCountryCode(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"US", "US", true}, {"us", "US", true}, {"uS", "US", true}, {"DE", "DE", true}, {"ZW", "ZW", true},
		{"AD", "AD", true}, {"XX", "", false}, {"UK", "", false}, {"EU", "", false}, {"U", "", false},
		{"USA", "", false}, {"1A", "", false}, {"D ", "", false}, {" A", "", false}, {"", "", false},
	} {
		got, ok := countryCode(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("countryCode(%q) = %q, %v", tc.in, got, ok)
		}
	}
	if n := strings.Count(iso3166, " "); n != 249 {
		t.Errorf("%d codes, ISO 3166-1 assigns 249", n)
	}
}

func TestMOQueries(t *testing.T) {
	for _, tc := range []struct {
		raw   string
		want  balanceQuery
		param string
	}{
		{"", balanceQuery{Template: "basic"}, ""},
		{"fieldsTemplate=full&limit=3&location=ca", balanceQuery{Template: "full", Limit: 3, Location: "CA"}, ""},
		{"FieldsTemplate=Basic&LIMIT=007", balanceQuery{Template: "basic", Limit: 7}, ""},
		{"limit=%2B1", balanceQuery{}, "limit"},
		{"limit=+1", balanceQuery{Template: "basic", Limit: 1}, ""}, // + is a space
		{"limit= 5", balanceQuery{Template: "basic", Limit: 5}, ""},
		{"limit=99999999999999999999", balanceQuery{}, "limit"},
		{"location=ZZ", balanceQuery{}, "location"},
		{"fieldsTemplate=basic&fieldstemplate=full", balanceQuery{}, "fieldsTemplate"},
		{"a=1;b=2", balanceQuery{}, "query"},
	} {
		got, err := parseBalanceQuery(tc.raw)
		var pe *ParamError
		if tc.param != "" {
			if err == nil || !errorsAs(err, &pe) || pe.Param != tc.param {
				t.Errorf("parseBalanceQuery(%q) = %+v, %v; want an error on %s", tc.raw, got, err, tc.param)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseBalanceQuery(%q) = %+v, %v; want %+v", tc.raw, got, err, tc.want)
		}
	}
	if q, err := parseOffersQuery("limit=1&imei=001102000315468"); err != nil || q != (offersQuery{Limit: 1, IMEI: "001102000315468"}) {
		t.Errorf("offers %+v %v", q, err)
	}
	if q, err := parseNotificationsQuery("notificationType=lowBalance&limit=2"); err != nil ||
		q != (notificationsQuery{Type: "lowBalance", Limit: 2}) {
		t.Errorf("notifications %+v %v", q, err)
	}
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"iccid:8988247000100003319", "8988247000100003319", true}, {"ICCID: 8988247000100003319F", "8988247000100003319", true},
		{"iccid:", "", false}, {"8988247000100003319", "", false}, {"iccid:89882470001000033x9", "", false},
		{"eid:" + testEID, "", false},
	} {
		got, ok := parseSimID(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseSimID(%q) = %q, %v", tc.in, got, ok)
		}
	}
}

func errorsAs(err error, pe **ParamError) bool {
	p, ok := err.(*ParamError)
	if ok {
		*pe = p
	}
	return ok
}

func TestValidActivationCode(t *testing.T) {
	for _, tc := range []struct {
		ac string
		ok bool
	}{
		{"1$smdp.contoso.test$JO46UQDI07IKQDGG", true}, {"1$127.0.0.1:8443$ABC-1", true}, {"1$smdp.example$", true},
		{"1$smdp.example$ABC$1.2.3", true}, {"1$smdp.example$ABC$$0", true},
		{"LPA:1$smdp.example$ABC", false}, {"1$smdp.example$ABC$$1", false}, {"2$smdp.example$ABC", false},
		{"1$$ABC", false}, {"1$smdp.example", false}, {"1$smdp example$ABC", false}, {"1$smdp.example$AB_C", false},
	} {
		if got := validActivationCode(tc.ac); got != tc.ok {
			t.Errorf("validActivationCode(%q) = %v", tc.ac, got)
		}
	}
	if got := ActivationCode("smdp.example", "M1"); got != "1$smdp.example$M1" {
		t.Errorf("ActivationCode = %q", got)
	}
}

func TestLPAErrorGroups(t *testing.T) {
	for code, want := range map[string]string{
		"ServerFailure": "network", "servernotreachable": "network", "CardBusy": "card", "EidMismatch": "profile",
		"OperationAborted": "user", "IncorrectConfirmationCode": "policy", "Other": "other", "Nonsense": "other",
	} {
		if got := lpaErrorGroup(code); got != want {
			t.Errorf("lpaErrorGroup(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestBalanceAt(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	data := 100.0
	pre := balance{DataMB: &data, UsagePerMin: 1, AsOf: t0, ExpiresAt: t0.Add(time.Hour)}
	for _, tc := range []struct {
		at       time.Duration
		wantData float64
		wantLeft time.Duration
	}{
		{-time.Minute, 100, 61 * time.Minute}, {0, 100, time.Hour}, {30 * time.Minute, 70, 30 * time.Minute},
		{59 * time.Minute, 41, time.Minute}, {time.Hour, 0, 0}, {2 * time.Hour, 0, 0},
	} {
		d, l := pre.at(t0.Add(tc.at), 0)
		if d != tc.wantData || l != tc.wantLeft {
			t.Errorf("prepaid at %v: %v %v, want %v %v", tc.at, d, l, tc.wantData, tc.wantLeft)
		}
	}
	post := balance{ExpiresAt: t0.Add(30 * day)}
	for _, tc := range []struct {
		at, want time.Duration
	}{{0, 30 * day}, {30 * day, 30 * day}, {31 * day, 29 * day}, {61 * day, 29 * day}} {
		d, l := post.at(t0.Add(tc.at), 30*day)
		if !math.IsNaN(d) || l != tc.want {
			t.Errorf("postpaid at %v: %v %v, want %v", tc.at, d, l, tc.want)
		}
	}
}

func TestLocaleFormats(t *testing.T) {
	u, err := newUI()
	if err != nil {
		t.Fatal(err)
	}
	en, de, fr := u.locales["en"], u.locales["de"], u.locales["fr"]
	for _, tc := range []struct{ got, want string }{
		{en.Price(1500), "$15.00"}, {de.Price(905), "9,05 $"}, {fr.Price(4000), "40,00 $"},
		{en.Data(5120), "5 GB"}, {en.Data(1536), "1.5 GB"}, {de.Data(1536), "1,5 GB"}, {fr.Data(5120), "5 Go"},
		{en.Data(512.4), "512 MB"}, {en.Data(0), "0 MB"}, {en.Data(5090), "5 GB"}, {fr.Data(99.5), "99,5 Mo"},
		{en.Duration(0), "expired"}, {en.Duration(30 * time.Second), "1 min"}, {en.Duration(90 * time.Minute), "1 h"},
		{de.Duration(49 * time.Hour), "2 T. 1 Std."}, {fr.Duration(48 * time.Hour), "2 j"},
		{en.T("plans.hello", "name", "<Ann>"), "Hello, <Ann>!"}, {en.T("no.such.key"), "[no.such.key]"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// FuzzParseLaunch checks that any launch never panics and keeps only
// clean values.
func FuzzParseLaunch(f *testing.F) {
	f.Add("market=US&location=US&transactionId=%2F7RBTuSJt02OZbX8.4&eid=89033023422130000000000199055797&imei=001102000315468&iccids=8988247000101867183,8988247000103824828",
		"en-US,en;q=0.9", "ServerFailure,ServerNotReachable", "5/18/2018 11:17:23 PM", "8988247000101867183")
	f.Add("iccid=8988247000100003319F&market=us&legacy=1", "de;q=0.5, fr", "", "", "")
	f.Add("EID=x&%zz&;&iccids=,,,", "*;q=abc", "<x>,,A", "\x00", "F")
	f.Fuzz(func(t *testing.T, query, lang, codes, times, iccids string) {
		h := http.Header{}
		h.Set(HeaderLPAErrorCodes, codes)
		h.Set(HeaderLPAErrorTimeStamps, times)
		h.Set(HeaderLPAErrorICCIDs, iccids)
		l := ParseLaunch(query, h)
		if l.EID != "" {
			if _, err := rsp.ParseEID(l.EID); err != nil {
				t.Errorf("EID %q kept: %v", l.EID, err)
			}
		}
		for _, id := range append(append([]string{}, l.ICCIDs...), l.ICCID) {
			if id != "" && (len(id) < 18 || len(id) > 20 || !allDigits(id)) {
				t.Errorf("ICCID %q kept", id)
			}
		}
		if len(l.ICCIDs) > maxLaunchICCIDs {
			t.Errorf("%d ICCIDs", len(l.ICCIDs))
		}
		for _, c := range []string{l.Location, l.Market} {
			if c != "" {
				if _, ok := countryCode(c); !ok || c != strings.ToUpper(c) {
					t.Errorf("country %q kept", c)
				}
			}
		}
		if len(l.TransactionID) > maxLaunchTransactionID || !printableASCII(l.TransactionID) {
			t.Errorf("transactionId %q kept", l.TransactionID)
		}
		if l.IMEI != "" && (len(l.IMEI) < 14 || len(l.IMEI) > 16 || !allDigits(l.IMEI)) {
			t.Errorf("IMEI %q kept", l.IMEI)
		}
		if e := l.Error; e != nil {
			if len(e.Codes) == 0 || len(e.Codes) > maxLPAErrors || len(e.TimeStamps) > maxLPAErrors {
				t.Errorf("error %+v", e)
			}
			for _, s := range append(append([]string{}, e.Codes...), e.TimeStamps...) {
				if len(s) > maxLPAErrorToken || strings.ContainsAny(s, "<>&\"',\x00") || !utf8.ValidString(s) {
					t.Errorf("unsafe error token %q", s)
				}
			}
		}
		if got := acceptLanguage(lang, languages()); got != "en" && got != "de" && got != "fr" {
			t.Errorf("language %q", got)
		}
	})
}

// FuzzMOQuery checks the MO API's SIM id and query parsers.
func FuzzMOQuery(f *testing.F) {
	f.Add("iccid:8988247000100003319", "fieldsTemplate=basic&limit=1&location=US", "MSFT-12345678-1234-1234-1234-123456789abc")
	f.Add("iccid: 8988247000100003319F", "limit=2147483648&location=us&fieldsTemplate=FULL", "x")
	f.Add("ICCID:1", "notificationType=lowBalance&limit=1&imei=1234", "")
	f.Add("imsi:1", "limit=%zz;a", "a b")
	f.Fuzz(func(t *testing.T, simID, query, tx string) {
		if id, ok := parseSimID(simID); ok && (len(id) < 18 || len(id) > 20 || !allDigits(id)) {
			t.Errorf("sim id %q gave ICCID %q", simID, id)
		}
		checkErr := func(err error) {
			if err == nil {
				return
			}
			pe, ok := err.(*ParamError)
			if !ok || pe.Param == "" || pe.Reason == "" {
				t.Errorf("error %v is not a named ParamError", err)
			}
		}
		bq, err := parseBalanceQuery(query)
		checkErr(err)
		if err == nil {
			if bq.Template != templateBasic && bq.Template != templateFull || bq.Limit < 0 || bq.Limit > math.MaxInt32 {
				t.Errorf("balance query %+v", bq)
			}
			if bq.Location != "" {
				if _, ok := countryCode(bq.Location); !ok {
					t.Errorf("location %q", bq.Location)
				}
			}
		}
		oq, err := parseOffersQuery(query)
		checkErr(err)
		if err == nil && (oq.Limit < 1 || oq.IMEI != "" && !allDigits(oq.IMEI)) {
			t.Errorf("offers query %+v", oq)
		}
		nq, err := parseNotificationsQuery(query)
		checkErr(err)
		if err == nil && (nq.Limit < 1 || nq.Type == "" || len(nq.Type) > 64) {
			t.Errorf("notifications query %+v", nq)
		}
		if checkTransactionID(tx) == nil && (tx == "" || len(tx) > maxTransactionID || strings.ContainsAny(tx, " \r\n")) {
			t.Errorf("transaction id %q accepted", tx)
		}
	})
}
