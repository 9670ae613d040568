package rsp

import (
	"github.com/mobileplans/mobileplans/esim/tlv"
)

// GetConfiguredAddressesRequest is ES10a.GetEuiccConfiguredAddresses.
type GetConfiguredAddressesRequest struct{}

// Encode returns BF3C 00.
func (GetConfiguredAddressesRequest) Encode() []byte {
	return tlv.NewConstructed(TagConfiguredAddresses).Bytes()
}

// DecodeGetConfiguredAddressesRequest checks a GetEuiccConfiguredAddresses
// request.
func DecodeGetConfiguredAddressesRequest(b []byte) (GetConfiguredAddressesRequest, error) {
	_, err := open(b, TagConfiguredAddresses, "GetEuiccConfiguredAddresses request")
	return GetConfiguredAddressesRequest{}, err
}

// ConfiguredAddresses is the answer to ES10a.GetEuiccConfiguredAddresses.
type ConfiguredAddresses struct {
	DefaultDPAddress string // optional; "" is omitted
	RootDSAddress    string
}

// Encode returns BF3C { [80 defaultDpAddress], 81 rootDsAddress }.
func (c ConfiguredAddresses) Encode() []byte {
	var cs []tlv.TLV
	if c.DefaultDPAddress != "" {
		cs = append(cs, tlv.New(0x80, []byte(c.DefaultDPAddress)))
	}
	cs = append(cs, tlv.New(0x81, []byte(c.RootDSAddress)))
	return tlv.NewConstructed(TagConfiguredAddresses, cs...).Bytes()
}

// DecodeConfiguredAddresses decodes the answer to
// GetEuiccConfiguredAddresses. A missing rootDsAddress decodes as "".
func DecodeConfiguredAddresses(b []byte) (ConfiguredAddresses, error) {
	es, err := open(b, TagConfiguredAddresses, "GetEuiccConfiguredAddresses response")
	if err != nil {
		return ConfiguredAddresses{}, err
	}
	var c ConfiguredAddresses
	if e, ok := find(es, 0x80); ok {
		c.DefaultDPAddress = string(e.val)
	}
	if e, ok := find(es, 0x81); ok {
		c.RootDSAddress = string(e.val)
	}
	return c, nil
}

// SetDefaultDPAddressRequest is ES10a.SetDefaultDpAddress; "" clears the
// address.
type SetDefaultDPAddressRequest struct {
	Address string
}

// Encode returns BF3F { 80 address }.
func (r SetDefaultDPAddressRequest) Encode() []byte {
	return tlv.NewConstructed(TagSetDefaultDP, tlv.New(0x80, []byte(r.Address))).Bytes()
}

// DecodeSetDefaultDPAddressRequest decodes a SetDefaultDpAddress request.
func DecodeSetDefaultDPAddressRequest(b []byte) (SetDefaultDPAddressRequest, error) {
	const what = "SetDefaultDpAddress request"
	es, err := open(b, TagSetDefaultDP, what)
	if err != nil {
		return SetDefaultDPAddressRequest{}, err
	}
	e, err := must(es, 0x80, what)
	if err != nil {
		return SetDefaultDPAddressRequest{}, err
	}
	return SetDefaultDPAddressRequest{Address: string(e.val)}, nil
}

// SetDefaultDPAddressResponse is the answer to ES10a.SetDefaultDpAddress.
type SetDefaultDPAddressResponse struct{ Result SetDefaultDPAddressResult }

// Encode returns BF3F { 80 result }.
func (r SetDefaultDPAddressResponse) Encode() []byte {
	return encodeResult(TagSetDefaultDP, int(r.Result))
}

// DecodeSetDefaultDPAddressResponse decodes BF3F { 80 result }.
func DecodeSetDefaultDPAddressResponse(b []byte) (SetDefaultDPAddressResponse, error) {
	v, err := decodeResult(b, TagSetDefaultDP, "SetDefaultDpAddress response")
	return SetDefaultDPAddressResponse{Result: SetDefaultDPAddressResult(v)}, err
}
