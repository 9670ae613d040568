package saip

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strconv"

	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/tlv"
)

// Spec describes the profile Build generates.
type Spec struct {
	ICCID  rsp.ICCID // 18..20 digits, canonical form (no F padding)
	IMSI   string    // 6..15 digits
	MCCMNC string    // 5 or 6 digits, prefix of IMSI
	SPN    string    // service provider name for EF.SPN: up to 16 GSM default alphabet characters or 7 UCS-2 characters
	// ProfileName is not carried by the UPP: SAIP has no field for it (the
	// RSP-visible name travels in StoreMetadata). Build ignores it.
	ProfileName string
	// Ki and OPc are the MILENAGE subscriber key and operator variant key,
	// 16 bytes each; nil derives a test key deterministically from the
	// ICCID, and the header's profileType is then "testing" instead of
	// "operational".
	Ki, OPc []byte
	// Filler is the number of bytes of phonebook records (EF.ADN in
	// DF.TELECOM and DF.PHONEBOOK) added through a genericFileManagement
	// element to bring the UPP to a target size; 0 selects DefaultFiller,
	// which gives a UPP of about 12 KB. At most MaxFiller.
	Filler int
}

// Filler bounds. MaxFiller keeps the UPP below the parser's default limit of
// 1 MiB.
const (
	DefaultFiller = 9 << 10
	MaxFiller     = 960 << 10
)

// SAIP version written in the header (pySim's default for generated
// profiles; the structures used here are unchanged in later versions).
const (
	versionMajor = 2
	versionMinor = 3
)

// Profile types written to the header's profileType.
const (
	profileTypeTesting     = "testing"
	profileTypeOperational = "operational"
)

// Key references (PINKeyReferenceValue / PUKKeyReferenceValue).
const (
	keyPIN1 = 0x01 // pinAppl1 / pukAppl1
	keyPIN2 = 0x81 // secondPINAppl1 / secondPUKAppl1
	keyADM1 = 0x0A // adm1
)

// Phonebook filler layout: EF.ADN records of an 18-byte alpha identifier
// plus the 14 fixed bytes of TS 51.011 10.5.1, at most 254 records per file.
const (
	adnAlphaLen   = 18
	adnRecordLen  = adnAlphaLen + 14
	adnMaxRecords = 254
	adnFirstFID   = 0x4F58 // first EF.ADN FID in DF.PHONEBOOK (SAIP phonebook template range)
)

// File identifiers.
const (
	fidTelecom   = 0x7F10
	fidPhonebook = 0x5F3A
	fidADN2G     = 0x6F3A
	fidADFUSIM   = 0x7FF1 // temporary file ID of ADF.USIM within the profile
)

// fid returns the two bytes of a file identifier.
func fid(f int) []byte { return []byte{byte(f >> 8), byte(f)} }

// usimAID returns the USIM application identifier: RID A000000087 (3GPP),
// application code 1002 (USIM), then country, provider and proprietary
// fields.
func usimAID() []byte {
	return []byte{0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00}
}

// plan is a validated Spec with every derived value filled in.
type plan struct {
	iccid       rsp.ICCID
	imsi        string
	mccmnc      string
	spn         []byte // EF.SPN content
	ki, opc     []byte
	profileType string
	records     int // EF.ADN filler records
	pin1, pin2  []byte
	adm1        []byte
	puk1, puk2  []byte
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidSpec, fmt.Sprintf(format, args...))
}

// validate checks s and derives the plan.
func (s Spec) validate() (plan, error) {
	var p plan
	id, err := rsp.ParseICCID(string(s.ICCID))
	if err != nil {
		return p, fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	if id != s.ICCID {
		return p, invalid("ICCID %q is not in canonical form (want %q)", s.ICCID, id)
	}
	p.iccid = id
	if err := checkIMSI(s.IMSI); err != nil {
		return p, invalid("%v", err)
	}
	p.imsi = s.IMSI
	if n := len(s.MCCMNC); n != 5 && n != 6 {
		return p, invalid("MCCMNC %q has %d digits, want 5 or 6", s.MCCMNC, n)
	}
	if nonDigit(s.MCCMNC) >= 0 {
		return p, invalid("MCCMNC %q is not all digits", s.MCCMNC)
	}
	if len(s.IMSI) <= len(s.MCCMNC) || s.IMSI[:len(s.MCCMNC)] != s.MCCMNC {
		return p, invalid("IMSI %s does not start with MCCMNC %s followed by an MSIN", maskIMSI(s.IMSI), s.MCCMNC)
	}
	p.mccmnc = s.MCCMNC
	if p.spn, err = encodeSPN(s.SPN); err != nil {
		return p, fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	p.profileType = profileTypeOperational
	p.ki, err = keyOrDerived("Ki", s.Ki, id, &p.profileType)
	if err != nil {
		return p, err
	}
	p.opc, err = keyOrDerived("OPc", s.OPc, id, &p.profileType)
	if err != nil {
		return p, err
	}
	filler := s.Filler
	switch {
	case filler < 0:
		return p, invalid("Filler %d is negative", filler)
	case filler > MaxFiller:
		return p, invalid("Filler %d exceeds %d", filler, MaxFiller)
	case filler == 0:
		filler = DefaultFiller
	}
	p.records = (filler + adnRecordLen - 1) / adnRecordLen
	p.pin1 = pinValue("0000")
	p.pin2 = pinValue("0000")
	p.adm1 = pinValue(derivedDigits("ADM1", id, 8))
	p.puk1 = pinValue(derivedDigits("PUK1", id, 8))
	p.puk2 = pinValue(derivedDigits("PUK2", id, 8))
	return p, nil
}

// keyOrDerived returns k (which must be 16 bytes) or, for nil, a test key
// derived from the ICCID; deriving marks the profile as a test profile.
func keyOrDerived(name string, k []byte, id rsp.ICCID, profileType *string) ([]byte, error) {
	if k == nil {
		*profileType = profileTypeTesting
		return derive(name, id, 16), nil
	}
	if len(k) != 16 {
		return nil, invalid("%s is %d bytes, want 16", name, len(k))
	}
	return append([]byte(nil), k...), nil
}

// derive returns n bytes of SHA-256("mobileplans/saip " label "\x00" ICCID).
func derive(label string, id rsp.ICCID, n int) []byte {
	h := sha256.Sum256([]byte("mobileplans/saip " + label + "\x00" + string(id)))
	return h[:n]
}

// derivedDigits returns n decimal digits derived from the ICCID.
func derivedDigits(label string, id rsp.ICCID, n int) string {
	out := make([]byte, n)
	for i, b := range derive(label, id, n) {
		out[i] = '0' + b%10
	}
	return string(out)
}

// pinValue returns the 8-byte PIN/PUK coding: ASCII digits padded with FF.
func pinValue(digits string) []byte {
	out := bytes.Repeat([]byte{0xFF}, 8)
	copy(out, digits)
	return out
}

// maskIMSI shortens an IMSI for messages: MCC/MNC digits and a mask.
func maskIMSI(imsi string) string {
	if len(imsi) <= 6 {
		return "***"
	}
	return imsi[:6] + "***"
}

// Build returns the unprotected profile package for s: the concatenated DER
// ProfileElements, header first and PE-End last. Spec errors wrap
// ErrInvalidSpec (and rsp.ErrBadICCID for a bad ICCID).
func Build(s Spec) ([]byte, error) {
	p, err := s.validate()
	if err != nil {
		return nil, err
	}
	// Identification numbers count the elements that carry a PEHeader
	// (all but the ProfileHeader), starting at 1.
	id := 0
	next := func() int { id++; return id }
	elements := []tlv.TLV{
		p.header(),
		p.mf(next()),
		p.pukCodes(next()),
		p.globalPINs(next()),
		p.telecom(next()),
		p.phonebookFiller(next()),
		p.usim(next()),
		p.optUSIM(next()),
		p.localPINs(next()),
		p.aka(next()),
		end(next()),
	}
	var buf bytes.Buffer
	for _, e := range elements {
		buf.Write(e.Bytes())
	}
	return buf.Bytes(), nil
}

// header returns the ProfileHeader. The elements marked mandated below are
// the MF, the USIM and the AKA parameters, hence the mandatory services usim
// and milenage and the mandatory templates MF and ADF.USIM.
func (p plan) header() tlv.TLV {
	return tlv.NewConstructed(tagHeader,
		tlv.New(0x80, encUint(versionMajor)),
		tlv.New(0x81, encUint(versionMinor)),
		tlv.New(0x82, []byte(p.profileType)),
		tlv.New(0x83, encodeHeaderICCID(p.iccid)),
		tlv.NewConstructed(0xA5, // eUICC-Mandatory-services
			tlv.New(0x81, nil), // usim
			tlv.New(0x84, nil), // milenage
		),
		tlv.NewConstructed(0xA6, // eUICC-Mandatory-GFSTEList
			tlv.New(0x06, oidMF()),
			tlv.New(0x06, oidUSIM()),
		),
	)
}

// Access rules (EF.ARR records, TS 102 221 9.2.5): AM_DO 80 with the access
// mode byte, then SC_DO 90 00 (always), 97 00 (never) or a CRT A4 naming
// the key reference with usage qualifier 08 (user verification).
const (
	amRead     = 0x01
	amUpdate   = 0x02
	amActDeact = 0x18
	condAlways = 0x00
	condNever  = 0xFF
)

type accessRule struct{ am, cond byte }

func arrRecord(rules ...accessRule) []byte {
	var out []byte
	for _, r := range rules {
		out = append(out, 0x80, 0x01, r.am)
		switch r.cond {
		case condAlways:
			out = append(out, 0x90, 0x00)
		case condNever:
			out = append(out, 0x97, 0x00)
		default:
			out = append(out, 0xA4, 0x06, 0x83, 0x01, r.cond, 0x95, 0x01, 0x08)
		}
	}
	return out
}

const (
	arrRecordLen = 40
	arrPINPIN    = 5 // record of arrRecords: read PIN1, update PIN1
)

// arrRecords are the access rules of every EF.ARR in the profile.
func arrRecords() [][]byte {
	ad := accessRule{amActDeact, keyADM1}
	return [][]byte{
		arrRecord(accessRule{amRead, condAlways}, accessRule{amUpdate, keyPIN1}, ad),
		arrRecord(accessRule{amRead, keyPIN1}, accessRule{amUpdate | amActDeact, keyADM1}),
		arrRecord(accessRule{amRead, keyPIN1}, accessRule{amUpdate, condNever}, ad),
		arrRecord(accessRule{amRead, condAlways}, accessRule{amUpdate, condNever}, ad),
		arrRecord(accessRule{amRead | amUpdate, keyPIN1}, ad),
		arrRecord(accessRule{amRead | amUpdate | amActDeact, keyADM1}),
		arrRecord(accessRule{amRead | amUpdate | amActDeact, keyPIN1}),
		arrRecord(accessRule{amRead, keyPIN1}, accessRule{amUpdate, keyPIN2}, ad),
		arrRecord(accessRule{amRead | amUpdate, keyPIN2}, ad),
		arrRecord(accessRule{amRead, condAlways}, accessRule{amUpdate | amActDeact, keyADM1}),
		arrRecord(accessRule{amRead, condAlways}, accessRule{amUpdate | amActDeact, condNever}),
		arrRecord(accessRule{amRead, keyADM1}, accessRule{amUpdate, condNever}, ad),
		arrRecord(accessRule{amRead | amUpdate, condAlways}, ad),
		arrRecord(accessRule{amActDeact, keyADM1}),
		arrRecord(accessRule{amRead | amUpdate, condNever}, ad),
	}
}

// records lays out fixed-length records, padding each with FF.
func records(recs [][]byte, rl int) []byte {
	out := bytes.Repeat([]byte{0xFF}, rl*len(recs))
	for i, r := range recs {
		copy(out[i*rl:], r)
	}
	return out
}

// arrFile returns an EF.ARR File as PE field [n].
func arrFile(n int) tlv.TLV {
	recs := arrRecords()
	return fileField(n, linearFixedFcp(arrRecordLen, len(recs)), records(recs, arrRecordLen))
}

// PIN status template DOs (TS 102 221 9.5.2): PS_DO 90 with one bit per key
// reference that follows (b8 first), key references in 83. PIN1 disabled,
// ADM1 / PIN2 enabled.
func pinStatusGlobal() []byte {
	return []byte{0x90, 0x01, 0x40, 0x83, 0x01, keyPIN1, 0x83, 0x01, keyADM1}
}

func pinStatusUSIM() []byte {
	return []byte{0x90, 0x01, 0x40, 0x83, 0x01, keyPIN1, 0x83, 0x01, keyPIN2}
}

const dirRecordLen = 38

// mf returns PE-MF: {mf-header [0], templateID [1], mf [2], ef-pl [3],
// ef-iccid [4], ef-dir [5], ef-arr [6], ef-umpc [7]}.
func (p plan) mf(id int) tlv.TLV {
	label := []byte("USIM")
	app := tlv.NewConstructed(0x61, tlv.New(0x4F, usimAID()), tlv.New(0x50, label)).Bytes()
	dir := records([][]byte{app, nil}, dirRecordLen)
	return tlv.NewConstructed(tagMF,
		peHeader(0xA0, id, true),
		tlv.New(0x81, oidMF()),
		fileField(2, []tlv.TLV{tlv.New(fcpPINStatusDO, pinStatusGlobal())}, nil),
		fileField(4, nil, p.iccid.Encode()),
		fileField(5, linearFixedFcp(dirRecordLen, 2), dir),
		arrFile(6),
	)
}

// pukCodes returns PE-PUKCodes: {puk-Header [0], pukCodes [1] SEQUENCE OF
// PUKConfiguration {keyReference [0], pukValue [1], maxNumOfAttemps [2]
// DEFAULT 170 (10 attempts, 10 left; omitted)}}.
func (p plan) pukCodes(id int) tlv.TLV {
	puk := func(ref int, v []byte) tlv.TLV {
		return tlv.NewConstructed(0x30, tlv.New(0x80, encUint(ref)), tlv.New(0x81, v))
	}
	return tlv.NewConstructed(tagPUKs,
		peHeader(0xA0, id, false),
		tlv.NewConstructed(0xA1, puk(keyPIN1, p.puk1), puk(keyPIN2, p.puk2)),
	)
}

// pinConfig returns a PINConfiguration {keyReference [0], pinValue [1],
// unblockingPINReference [2] OPTIONAL, pinAttributes [3] DEFAULT 7,
// maxNumOfAttemps [4] DEFAULT 51 (3 attempts, 3 left; omitted)}.
func pinConfig(ref int, v []byte, puk int, attrs int) tlv.TLV {
	ch := []tlv.TLV{tlv.New(0x80, encUint(ref)), tlv.New(0x81, v)}
	if puk != 0 {
		ch = append(ch, tlv.New(0x82, encUint(puk)))
	}
	if attrs != 7 {
		ch = append(ch, tlv.New(0x83, encUint(attrs)))
	}
	return tlv.NewConstructed(0x30, ch...)
}

// pinCodes returns PE-PINCodes {pin-Header [0], pinCodes [1] CHOICE
// {pinconfig [0] SEQUENCE OF PINConfiguration, ...}}.
func pinCodes(id int, cfgs ...tlv.TLV) tlv.TLV {
	return tlv.NewConstructed(tagPINs,
		peHeader(0xA0, id, false),
		tlv.NewConstructed(0xA1, tlv.NewConstructed(0xA0, cfgs...)),
	)
}

// globalPINs returns the MF-context PINs: PIN1 and ADM1 (pinAttributes 6
// and 3 as in pySim's generated profiles).
func (p plan) globalPINs(id int) tlv.TLV {
	return pinCodes(id,
		pinConfig(keyPIN1, p.pin1, keyPIN1, 6),
		pinConfig(keyADM1, p.adm1, 0, 3),
	)
}

// localPINs returns the ADF.USIM PINs: PIN2 (secondPINAppl1).
func (p plan) localPINs(id int) tlv.TLV {
	return pinCodes(id, pinConfig(keyPIN2, p.pin2, keyPIN2, 7))
}

// telecom returns PE-TELECOM: {telecom-header [0], templateID [1],
// df-telecom [2], ef-arr [3], ..., df-phonebook [15], ...}.
func (p plan) telecom(id int) tlv.TLV {
	return tlv.NewConstructed(tagTelecom,
		peHeader(0xA0, id, false),
		tlv.New(0x81, oidTelecom()),
		fileField(2, []tlv.TLV{tlv.New(fcpPINStatusDO, pinStatusGlobal())}, nil),
		arrFile(3),
		fileField(15, []tlv.TLV{tlv.New(fcpPINStatusDO, pinStatusGlobal())}, nil),
	)
}

// appendADNRecord appends phonebook record i: an alpha identifier
// "Contact NNNNN", the length of the BCD number plus TON/NPI byte, TON/NPI
// 81 (unknown / ISDN), 10 bytes of dialling number 1555NNNNNNN, and the
// capability/configuration and extension identifiers FF.
func appendADNRecord(dst []byte, i int) []byte {
	// Latin letters, digits and space have their ASCII values in the GSM
	// default alphabet.
	start := len(dst)
	dst = append(dst, "Contact "...)
	dst = appendZeroPadded(dst, i+1, 5)
	for len(dst)-start < adnAlphaLen {
		dst = append(dst, 0xFF)
	}
	number := appendZeroPadded([]byte("1555"), i+1, 7)
	dst = append(dst, byte(1+(len(number)+1)/2), 0x81)
	dst = append(dst, encodeBCDNumber(string(number), 10)...)
	return append(dst, 0xFF, 0xFF)
}

// appendZeroPadded appends the decimal form of v (v >= 0), left-padded with
// zeros to width digits.
func appendZeroPadded(dst []byte, v, width int) []byte {
	s := strconv.Itoa(v)
	for n := len(s); n < width; n++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// phonebookFiller returns PE-GenericFileManagement {gfm-header [0],
// fileManagementCMD [1] SEQUENCE OF FileManagement} creating linear fixed
// EF.ADN files: DF.TELECOM/EF.ADN, then DF.TELECOM/DF.PHONEBOOK/EF.ADN
// files. FileManagement is a SEQUENCE OF CHOICE {filePath [0],
// createFCP [APPLICATION 2], fillFileOffset INTEGER, fillFileContent [1]}.
func (p plan) phonebookFiller(id int) tlv.TLV {
	var cmds []tlv.TLV
	for file, done := 0, 0; done < p.records; file++ {
		n := min(adnMaxRecords, p.records-done)
		path, ef := fid(fidTelecom), fid(fidADN2G)
		if file > 0 {
			path = append(path, fid(fidPhonebook)...)
			ef = fid(adnFirstFID + file - 1)
		}
		content := make([]byte, 0, n*adnRecordLen)
		for i := range n {
			content = appendADNRecord(content, done+i)
		}
		cmds = append(cmds,
			tlv.New(0x80, path),
			tlv.NewConstructed(0x62,
				tlv.New(fcpDescriptor, descLinearFixed(adnRecordLen)),
				tlv.New(fcpFileID, ef),
				tlv.New(fcpSecAttrRef, []byte{arrPINPIN}),
				tlv.New(fcpEFFileSize, encUnsigned(n*adnRecordLen)),
			),
			tlv.New(0x81, content),
		)
		done += n
	}
	return tlv.NewConstructed(tagGFM,
		peHeader(0xA0, id, false),
		tlv.NewConstructed(0xA1, tlv.NewConstructed(0x30, cmds...)),
	)
}

// ust returns the 17-byte EF.UST with services 10 (SMS), 12 (SMSP),
// 19 (SPN), 71 (EHPLMN) and 85 (EPS mobility management information)
// available; service n is bit (n-1)%8 of byte (n-1)/8.
func ust() []byte {
	out := make([]byte, 17)
	for _, n := range []int{10, 12, 19, 71, 85} {
		out[(n-1)/8] |= 1 << ((n - 1) % 8)
	}
	return out
}

// acc returns EF.ACC: the access class is the last IMSI digit; byte 1 holds
// classes 15..8, byte 2 classes 7..0.
func (p plan) acc() []byte {
	class := int(p.imsi[len(p.imsi)-1] - '0')
	v := 1 << class
	return []byte{byte(v >> 8), byte(v)}
}

// ad returns EF.AD: UE operation mode normal, no additional information,
// length of the MNC in the IMSI.
func (p plan) ad() []byte {
	return []byte{0x00, 0x00, 0x00, byte(len(p.mccmnc) - 3)}
}

// usim returns PE-USIM: {usim-header [0], templateID [1], adf-usim [2],
// ef-imsi [3], ef-arr [4], ..., ef-ust [8], ..., ef-spn [13], ef-est [14],
// ..., ef-acc [18], ..., ef-ad [21], ef-ecc [22], ...}.
func (p plan) usim(id int) tlv.TLV {
	return tlv.NewConstructed(tagUSIM,
		peHeader(0xA0, id, true),
		tlv.New(0x81, oidUSIM()),
		fileField(2, []tlv.TLV{
			tlv.New(fcpFileID, fid(fidADFUSIM)),
			tlv.New(fcpDFName, usimAID()),
			tlv.New(fcpPINStatusDO, pinStatusUSIM()),
		}, nil),
		fileField(3, nil, encodeIMSI(p.imsi)),
		arrFile(4),
		fileField(8, nil, ust()),
		fileField(13, nil, p.spn),
		fileField(14, nil, []byte{0x00}),
		fileField(18, nil, p.acc()),
		fileField(21, nil, p.ad()),
		fileField(22, nil, nil),
	)
}

// optUSIM returns PE-OPT-USIM with EF.EHPLMN ([58]): the home PLMN, then
// unused entries FF.
func (p plan) optUSIM(id int) tlv.TLV {
	ehplmn := append(encodePLMN(p.mccmnc), bytes.Repeat([]byte{0xFF}, 12)...)
	return tlv.NewConstructed(tagOptUSIM,
		peHeader(0xA0, id, false),
		tlv.New(0x81, oidOptUSIM()),
		fileField(58, nil, ehplmn),
	)
}

// aka returns PE-AKAParameter {aka-header [0], algoConfiguration [1] CHOICE
// {mappingParameter [0], algoParameter [1] {algorithmID [0] milenage(1),
// algorithmOptions [1], key [2], opc [3], ...}}, ...}; the sequence number
// parameters keep their DEFAULTs.
func (p plan) aka(id int) tlv.TLV {
	return tlv.NewConstructed(tagAKA,
		peHeader(0xA0, id, true),
		tlv.NewConstructed(0xA1, tlv.NewConstructed(0xA1,
			tlv.New(0x80, encUint(1)),
			tlv.New(0x81, []byte{0x00}),
			tlv.New(0x82, p.ki),
			tlv.New(0x83, p.opc),
		)),
	)
}

// end returns PE-End {end-header [0]}.
func end(id int) tlv.TLV {
	return tlv.NewConstructed(tagEnd, peHeader(0xA0, id, false))
}
