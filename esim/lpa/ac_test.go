package lpa

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestParseActivationCode(t *testing.T) {
	tests := []struct {
		in      string
		want    ActivationCode
		str     string // String(); "" = same as the input without prefix
		wantErr string
	}{
		{in: "LPA:1$smdp.example.com$04386-AGYFT-A74Y8-3F815",
			want: ActivationCode{SMDPAddress: "smdp.example.com", MatchingID: "04386-AGYFT-A74Y8-3F815"}},
		{in: "1$smdp.example.com$04386-AGYFT-A74Y8-3F815",
			want: ActivationCode{SMDPAddress: "smdp.example.com", MatchingID: "04386-AGYFT-A74Y8-3F815"}},
		{in: "lpa:1$SMDP.Example.com$abc", want: ActivationCode{SMDPAddress: "SMDP.Example.com", MatchingID: "abc"},
			str: "1$SMDP.Example.com$abc"},
		{in: "  LPA:1$smdp.example.com$X\r\n", want: ActivationCode{SMDPAddress: "smdp.example.com", MatchingID: "X"},
			str: "1$smdp.example.com$X"},
		{in: "LPA:1$smdp.example.com$MATCHING-ID$$1",
			want: ActivationCode{SMDPAddress: "smdp.example.com", MatchingID: "MATCHING-ID", ConfirmationCodeRequired: true}},
		{in: "LPA:1$smdp.example.com$MATCHING-ID$2.999.10$1",
			want: ActivationCode{SMDPAddress: "smdp.example.com", MatchingID: "MATCHING-ID", SMDPOID: "2.999.10", ConfirmationCodeRequired: true}},
		{in: "1$smdp.example.com$M$2.999.10",
			want: ActivationCode{SMDPAddress: "smdp.example.com", MatchingID: "M", SMDPOID: "2.999.10"}},
		{in: "1$smdp.example.com$M$2.999.10$0", want: ActivationCode{SMDPAddress: "smdp.example.com", MatchingID: "M", SMDPOID: "2.999.10"},
			str: "1$smdp.example.com$M$2.999.10"},
		{in: "1$smdp.example.com$M$$", want: ActivationCode{SMDPAddress: "smdp.example.com", MatchingID: "M"},
			str: "1$smdp.example.com$M"},
		{in: "1$smdp.example.com$", want: ActivationCode{SMDPAddress: "smdp.example.com"}},
		{in: "1$$", want: ActivationCode{}},
		{in: "1$$MID", want: ActivationCode{MatchingID: "MID"}},
		{in: "1$localhost:8443$MID", want: ActivationCode{SMDPAddress: "localhost:8443", MatchingID: "MID"}},
		{in: "1$127.0.0.1:443$MID", want: ActivationCode{SMDPAddress: "127.0.0.1:443", MatchingID: "MID"}},
		{in: "1$[::1]:8443$MID", want: ActivationCode{SMDPAddress: "[::1]:8443", MatchingID: "MID"}},
		{in: "1$[2001:db8::1]$MID", want: ActivationCode{SMDPAddress: "[2001:db8::1]", MatchingID: "MID"}},
		{in: "1$smdp.example.com.$MID", want: ActivationCode{SMDPAddress: "smdp.example.com.", MatchingID: "MID"}},
		{in: "1$smdp.example.com$MID$2.999.10$1$future$fields",
			want: ActivationCode{SMDPAddress: "smdp.example.com", MatchingID: "MID", SMDPOID: "2.999.10", ConfirmationCodeRequired: true},
			str:  "1$smdp.example.com$MID$2.999.10$1"},

		{in: "", wantErr: "empty"},
		{in: "LPA:", wantErr: "empty"},
		{in: "2$smdp.example.com$MID", wantErr: `format field is "2"`},
		{in: "LPA:LPA:1$a$b", wantErr: `format field is "LPA:1"`},
		{in: "smdp.example.com$MID", wantErr: "format field"},
		{in: "1$smdp.example.com", wantErr: "at least 3"},
		{in: "1", wantErr: "at least 3"},
		{in: "1$smdp example.com$MID", wantErr: "SM-DP+ address"},
		{in: "1$https://smdp.example.com$MID", wantErr: "SM-DP+ address"},
		{in: "1$smdp.example.com/path$MID", wantErr: "SM-DP+ address"},
		{in: "1$smdp.example.com:0$MID", wantErr: "port"},
		{in: "1$smdp.example.com:65536$MID", wantErr: "port"},
		{in: "1$smdp.example.com:$MID", wantErr: "port"},
		{in: "1$smdp.example.com:+80$MID", wantErr: "port"},
		{in: "1$::1$MID", wantErr: "brackets"},
		{in: "1$[::1$MID", wantErr: "closing"},
		{in: "1$[127.0.0.1]:80$MID", wantErr: "IPv6"},
		{in: "1$-smdp.example.com$MID", wantErr: "label"},
		{in: "1$smdp..example.com$MID", wantErr: "label"},
		{in: "1$" + strings.Repeat("a", 64) + ".com$MID", wantErr: "label"},
		{in: "1$smdp.example.com$MID WITH SPACE", wantErr: "matching ID"},
		{in: "1$smdp.example.com$ABC_DEF", wantErr: "matching ID"},
		{in: "1$smdp.example.com$" + strings.Repeat("A", 256), wantErr: "matching ID"},
		{in: "1$smdp.example.com$MID$2", wantErr: "fewer than two arcs"},
		{in: "1$smdp.example.com$MID$3.1", wantErr: "first arc"},
		{in: "1$smdp.example.com$MID$2.x.10", wantErr: "arc 2"},
		{in: "1$smdp.example.com$MID$2..10", wantErr: "arc 2"},
		{in: "1$smdp.example.com$MID$2.01", wantErr: "arc 2"},
		{in: "1$smdp.example.com$MID$$2", wantErr: "confirmation code flag"},
		{in: "1$smdp.example.com$MID$$true", wantErr: "confirmation code flag"},
		{in: "1$smdp.example.com$" + strings.Repeat("A", MaxActivationCodeLen), wantErr: "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseActivationCode(tc.in)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("got %+v, want error containing %q", got, tc.wantErr)
				}
				if !errors.Is(err, ErrBadActivationCode) {
					t.Errorf("error %v does not wrap ErrBadActivationCode", err)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %q does not contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			want := tc.str
			if want == "" {
				want = tc.in
				if len(want) >= 4 && strings.EqualFold(want[:4], "LPA:") {
					want = want[4:]
				}
			}
			if s := got.String(); s != want {
				t.Errorf("String() = %q, want %q", s, want)
			}
			if u := got.URI(); u != "LPA:"+want {
				t.Errorf("URI() = %q", u)
			}
		})
	}
}

func TestActivationCodeLogValueRedacts(t *testing.T) {
	var b strings.Builder
	log := slog.New(slog.NewTextHandler(&b, nil))
	ac := ActivationCode{SMDPAddress: "smdp.example.com", MatchingID: "04386-AGYFT-A74Y8-3F815"}
	log.Info("x", "ac", ac)
	out := b.String()
	if strings.Contains(out, ac.MatchingID) {
		t.Fatalf("log shows the matching ID: %s", out)
	}
	if !strings.Contains(out, "04***15") || !strings.Contains(out, "smdp.example.com") {
		t.Fatalf("log lacks the redacted matching ID or address: %s", out)
	}
}

// FuzzParseActivationCode checks that parsing never panics and that every
// accepted code formats to a string that parses back to the same value.
func FuzzParseActivationCode(f *testing.F) {
	for _, s := range []string{
		"LPA:1$smdp.example.com$04386-AGYFT-A74Y8-3F815",
		"1$smdp.example.com$MATCHING-ID$$1",
		"LPA:1$smdp.example.com$MATCHING-ID$2.999.10$1",
		"1$[::1]:8443$M$2.999.10$0$x",
		"1$$", "1$a$b$c$d$e", "LPA:", "$$$", "1$a:99999$b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ac, err := ParseActivationCode(s)
		if err != nil {
			if !errors.Is(err, ErrBadActivationCode) {
				t.Fatalf("error %v does not wrap ErrBadActivationCode", err)
			}
			return
		}
		again, err := ParseActivationCode(ac.String())
		if err != nil {
			t.Fatalf("%q parsed to %+v whose String %q does not parse: %v", s, ac, ac.String(), err)
		}
		if again != ac {
			t.Fatalf("round trip of %q: %+v != %+v", s, again, ac)
		}
		if strings.Contains(ac.MatchingID, "$") || strings.Contains(ac.SMDPAddress, "$") {
			t.Fatalf("field contains '$': %+v", ac)
		}
	})
}
