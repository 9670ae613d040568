package launch

import (
	"errors"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		s     Settings
		field string // "" = valid
	}{
		{"mock needs nothing", Settings{Mock: true}, ""},
		{"device", Settings{Discovery: "https://mps.example.net", Modem: "at:/dev/ttyUSB2"}, ""},
		{"device, auto modem", Settings{Discovery: "https://mps.example.net"}, ""},
		{"no discovery", Settings{Modem: "mm"}, "discovery"},
		{"plain http", Settings{Discovery: "http://mps.example.net"}, "discovery"},
		{"bad modem", Settings{Discovery: "https://mps.example.net", Modem: "usb:3"}, "modem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			var se *SettingsError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("Validate = %v", err)
			case tt.field != "" && (!errors.As(err, &se) || se.Field != tt.field):
				t.Fatalf("Validate = %v, want a SettingsError on %s", err, tt.field)
			}
		})
	}
}
