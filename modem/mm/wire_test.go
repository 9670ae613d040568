package mm

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/godbus/dbus/v5"
)

// wireMessage encodes a signal with body as godbus would send it.
func wireMessage(tb testing.TB, path dbus.ObjectPath, iface, member string, body ...any) []byte {
	tb.Helper()
	msg := &dbus.Message{
		Type: dbus.TypeSignal,
		Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldPath:      dbus.MakeVariant(path),
			dbus.FieldInterface: dbus.MakeVariant(iface),
			dbus.FieldMember:    dbus.MakeVariant(member),
			dbus.FieldSender:    dbus.MakeVariant(":1.7"),
			dbus.FieldSignature: dbus.MakeVariant(dbus.SignatureOf(body...)),
		},
		Body: body,
	}
	var b bytes.Buffer
	if err := msg.EncodeTo(&b, binary.LittleEndian); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// decodeSignal decodes a wire message into the dbus.Signal godbus would
// deliver, so that values have the types they have off the wire.
func decodeSignal(data []byte) (*dbus.Signal, bool) {
	msg, err := dbus.DecodeMessage(bytes.NewReader(data))
	if err != nil || msg.Type != dbus.TypeSignal {
		return nil, false
	}
	path, _ := msg.Headers[dbus.FieldPath].Value().(dbus.ObjectPath)
	iface, _ := msg.Headers[dbus.FieldInterface].Value().(string)
	member, _ := msg.Headers[dbus.FieldMember].Value().(string)
	sender, _ := msg.Headers[dbus.FieldSender].Value().(string)
	return &dbus.Signal{Sender: sender, Path: path, Name: iface + "." + member, Body: msg.Body, Sequence: 10}, true
}

// wireSignal is a signal as it comes off the wire.
func wireSignal(tb testing.TB, path dbus.ObjectPath, iface, member string, body ...any) *dbus.Signal {
	tb.Helper()
	s, ok := decodeSignal(wireMessage(tb, path, iface, member, body...))
	if !ok {
		tb.Fatal("cannot decode the encoded signal")
	}
	return s
}

// port is a(su) element as godbus encodes a Go struct.
type port struct {
	Name string
	Type uint32
}

type quality struct {
	Percent uint32
	Recent  bool
}

// modemIfaces are the interfaces of the simulated modem as ModemManager
// exports it (values as Go types; send them through wireSignal).
func modemIfaces(imei, sim string) map[string]map[string]dbus.Variant {
	return map[string]map[string]dbus.Variant{
		ifaceModem: {
			"EquipmentIdentifier": dbus.MakeVariant(imei),
			"Manufacturer":        dbus.MakeVariant("Mobileplans"),
			"Model":               dbus.MakeVariant("SimModem 1000"),
			"Revision":            dbus.MakeVariant("1.0.0"),
			"Device":              dbus.MakeVariant("/sys/devices/usb1/1-1"),
			"Drivers":             dbus.MakeVariant([]string{"option"}),
			"Plugin":              dbus.MakeVariant("generic"),
			"PrimaryPort":         dbus.MakeVariant("ttyUSB2"),
			"Ports":               dbus.MakeVariant([]port{{"ttyUSB0", 3}, {"wwan0", 2}, {"ttyUSB2", 3}}),
			"State":               dbus.MakeVariant(int32(8)),
			"StateFailedReason":   dbus.MakeVariant(uint32(0)),
			"UnlockRequired":      dbus.MakeVariant(uint32(1)),
			"SignalQuality":       dbus.MakeVariant(quality{64, true}),
			"AccessTechnologies":  dbus.MakeVariant(uint32(1 << 14)),
			"Sim":                 dbus.MakeVariant(dbus.ObjectPath(sim)),
			"SimSlots":            dbus.MakeVariant([]dbus.ObjectPath{dbus.ObjectPath(sim), "/"}),
			"PrimarySimSlot":      dbus.MakeVariant(uint32(1)),
		},
		iface3GPP: {
			"Imei":              dbus.MakeVariant(imei),
			"RegistrationState": dbus.MakeVariant(uint32(1)),
			"OperatorCode":      dbus.MakeVariant("00101"),
			"OperatorName":      dbus.MakeVariant("Contoso"),
		},
	}
}

func simProps(iccid string) map[string]dbus.Variant {
	return map[string]dbus.Variant{
		"Active":             dbus.MakeVariant(true),
		"SimIdentifier":      dbus.MakeVariant(iccid),
		"Imsi":               dbus.MakeVariant("001010123456789"),
		"Eid":                dbus.MakeVariant("89049032000000000000000000000001"),
		"OperatorIdentifier": dbus.MakeVariant("00101"),
		"OperatorName":       dbus.MakeVariant("Contoso"),
		"SimType":            dbus.MakeVariant(uint32(2)),
		"EsimStatus":         dbus.MakeVariant(uint32(2)),
	}
}
