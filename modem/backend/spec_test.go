package backend

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in   string
		want Spec
		err  string // substring of the error; "" = no error
	}{
		{in: "", want: Spec{Kind: KindAuto}},
		{in: "auto", want: Spec{Kind: KindAuto}},
		{in: "AUTO", want: Spec{Kind: KindAuto}},
		{in: "mm", want: Spec{Kind: KindMM}},
		{in: "MM", want: Spec{Kind: KindMM}},
		{in: "mm:490154203237518", want: Spec{Kind: KindMM, IMEI: "490154203237518"}},
		{in: "mm:A10000123456AB", want: Spec{Kind: KindMM, IMEI: "A10000123456AB"}},
		{in: "at:/dev/ttyUSB2", want: Spec{Kind: KindAT, Port: "/dev/ttyUSB2"}},
		{in: "AT:COM3", want: Spec{Kind: KindAT, Port: "COM3"}},
		{in: "at:ttyUSB2", want: Spec{Kind: KindAT, Port: "ttyUSB2"}},
		{in: "at:/dev/serial/by-id/usb-Quectel:if02", want: Spec{Kind: KindAT, Port: "/dev/serial/by-id/usb-Quectel:if02"}},
		{in: "/dev/ttyUSB2", want: Spec{Kind: KindAT, Port: "/dev/ttyUSB2"}},
		{in: "/dev/wwan0at0", want: Spec{Kind: KindAT, Port: "/dev/wwan0at0"}},
		{in: "COM12", want: Spec{Kind: KindAT, Port: "COM12"}},
		{in: "com3", want: Spec{Kind: KindAT, Port: "com3"}},
		{in: `\\.\COM12`, want: Spec{Kind: KindAT, Port: `\\.\COM12`}},
		{in: "mm:", err: "IMEI"},
		{in: "mm:1234", err: "IMEI"},
		{in: "mm:49015420323751 8", err: "IMEI"},
		{in: "mm:4901542032375180000000000000000000", err: "IMEI"},
		{in: "at:", err: "no serial port"},
		{in: "at: /dev/ttyUSB2", err: "spaces"},
		{in: "qmi:/dev/cdc-wdm0", err: "unknown backend"},
		{in: "ttyUSB2", err: "unknown backend"},
		{in: "COM", err: "unknown backend"},
		{in: "COMx", err: "unknown backend"},
		{in: "/", err: "unknown backend"},
		{in: " /dev/ttyUSB2", err: "unknown backend"},
		{in: "at:/dev/tty\nUSB2", err: "control"},
		{in: "at:/dev/\xff", err: "UTF-8"},
		{in: "at:/" + strings.Repeat("x", maxSpec), err: "longer"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSpec(tt.in)
			if tt.err != "" {
				var se *SpecError
				if err == nil || !errors.Is(err, ErrBadSpec) || !errors.As(err, &se) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseSpec(%q) = %+v, %v; want a *SpecError mentioning %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSpec(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			again, err := ParseSpec(got.String())
			if err != nil || again != got {
				t.Fatalf("ParseSpec(%q.String() = %q) = %+v, %v", tt.in, got.String(), again, err)
			}
		})
	}
}

func TestSpecString(t *testing.T) {
	for spec, want := range map[Spec]string{
		{}:                                "auto",
		{Kind: KindAuto}:                  "auto",
		{Kind: KindMM}:                    "mm",
		{Kind: KindMM, IMEI: "123456789"}: "mm:123456789",
		{Kind: KindAT, Port: "COM3"}:      "at:COM3",
	} {
		if got := spec.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", spec, got, want)
		}
	}
}

// FuzzParseSpec: whatever the input, ParseSpec does not panic, an accepted
// spec prints to a string that parses back to it, and a refused one is a
// *SpecError.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"", "auto", "mm", "mm:490154203237518", "at:/dev/ttyUSB2", "/dev/ttyACM0", "COM3",
		`\\.\COM10`, "at:", "mm:", "x:y", "at:at:mm:", "mm:ÄÖÜ", "at:\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSpec(s)
		if err != nil {
			if !errors.Is(err, ErrBadSpec) {
				t.Fatalf("ParseSpec(%q): %v is not ErrBadSpec", s, err)
			}
			return
		}
		switch got.Kind {
		case KindAuto:
			if got.IMEI != "" || got.Port != "" {
				t.Fatalf("auto with fields: %+v", got)
			}
		case KindMM:
			if got.Port != "" {
				t.Fatalf("mm with a port: %+v", got)
			}
		case KindAT:
			if got.Port == "" || got.IMEI != "" {
				t.Fatalf("at spec %+v", got)
			}
		default:
			t.Fatalf("kind %q", got.Kind)
		}
		again, err := ParseSpec(got.String())
		if err != nil || again != got {
			t.Fatalf("ParseSpec(%q) = %+v; its String %q parses to %+v, %v", s, got, got.String(), again, err)
		}
	})
}
