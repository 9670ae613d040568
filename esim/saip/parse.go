package saip

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/mobileplans/mobileplans/esim/rsp"
	"github.com/mobileplans/mobileplans/esim/tlv"
)

// DefaultMaxSize is the parser's size limit when NewParser gets maxSize <= 0.
const DefaultMaxSize = 1 << 20

// maxDepth bounds the nesting of TLVs inside a profile element (SAIP needs
// about 6 levels).
const maxDepth = 24

// fileContentLimit bounds the linearised content kept for the EFs the parser
// reads (EF.IMSI, EF.SPN, EF.ICCID).
const fileContentLimit = 64

// Profile is what the parser extracts from a UPP.
type Profile struct {
	ICCID                      rsp.ICCID // from the ProfileHeader
	IMSI                       string    // from EF.IMSI of the first PE-USIM
	SPN                        string    // from EF.SPN of the first PE-USIM; "" if absent or not decodable
	MajorVersion, MinorVersion int       // SAIP version of the header
	ProfileType                string    // header profileType, "" if absent
	Elements                   int       // number of profile elements
	Size                       int       // bytes consumed
}

// Parser consumes a UPP incrementally, in chunks cut at arbitrary byte
// positions. It buffers at most one profile element. The zero value is not
// usable; call NewParser.
type Parser struct {
	max    int
	buf    []byte // bytes of the current, incomplete element
	done   int    // bytes of completed elements
	err    error  // sticky error
	closed bool

	prof      Profile
	gotHeader bool
	gotEnd    bool
	gotIMSI   bool

	closeProf Profile
	closeErr  error
}

// NewParser returns a parser that refuses input longer than maxSize bytes
// (DefaultMaxSize, 1 MiB, when maxSize <= 0).
func NewParser(maxSize int) *Parser {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	return &Parser{max: maxSize}
}

// Write consumes the next chunk. Errors wrap ErrMalformed or ErrTooLarge and
// are reported as soon as they are detectable; after an error every call
// returns it again.
func (p *Parser) Write(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	if p.closed {
		return 0, fmt.Errorf("saip: Write after Close")
	}
	if len(b) > p.max-p.done-len(p.buf) {
		return 0, p.fail(fmt.Errorf("%w: more than %d bytes", ErrTooLarge, p.max))
	}
	data := b
	if len(p.buf) > 0 {
		p.buf = append(p.buf, b...)
		data = p.buf
	}
	n, err := p.consume(data)
	if err != nil {
		return 0, p.fail(err)
	}
	rest := data[n:]
	switch {
	case len(rest) == 0 && cap(p.buf) > 64<<10:
		p.buf = nil // release the buffer of a large element
	case len(p.buf) > 0:
		p.buf = p.buf[:copy(p.buf, rest)]
	default:
		p.buf = append(p.buf[:0], rest...)
	}
	return len(b), nil
}

func (p *Parser) fail(err error) error {
	p.err = err
	p.buf = nil
	return err
}

// consume processes the complete elements at the start of data and returns
// the number of bytes they occupy; a trailing partial element is checked as
// far as its bytes allow.
func (p *Parser) consume(data []byte) (int, error) {
	off := 0
	for off < len(data) {
		rest := data[off:]
		if p.gotEnd {
			return 0, fmt.Errorf("%w: %d bytes after PE-End at offset %d", ErrMalformed, len(data)-off, p.done)
		}
		if rest[0]&0xE0 != 0xA0 {
			return 0, fmt.Errorf("%w: byte %02X at offset %d does not start a ProfileElement (context-specific constructed tag)", ErrMalformed, rest[0], p.done)
		}
		if !p.gotHeader && rest[0] != byte(tagHeader) {
			return 0, fmt.Errorf("%w: first element is %s, want the ProfileHeader (A0)", ErrMalformed, tagName(rest))
		}
		tag, tn, err := tlv.ReadTag(rest)
		if errors.Is(err, tlv.ErrTruncated) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("%w: element at offset %d: %w", ErrMalformed, p.done, err)
		}
		l, ln, err := tlv.ReadLength(rest[tn:])
		switch {
		case errors.Is(err, tlv.ErrTruncated):
			return off, nil
		case errors.Is(err, tlv.ErrTooLarge):
			return 0, fmt.Errorf("%w: %s at offset %d: %w", ErrTooLarge, elementName(tag), p.done, err)
		case err != nil:
			return 0, fmt.Errorf("%w: %s at offset %d: %w", ErrMalformed, elementName(tag), p.done, err)
		}
		total := tn + ln + l
		if total > p.max-p.done {
			return 0, fmt.Errorf("%w: %s at offset %d declares %d bytes, limit %d", ErrTooLarge, elementName(tag), p.done, total, p.max)
		}
		if len(rest) < total {
			break
		}
		if err := p.element(tag, rest[tn+ln:total]); err != nil {
			return 0, err
		}
		p.done += total
		off += total
	}
	return off, nil
}

// tagName names the element whose encoding starts b, for messages about a
// possibly incomplete tag.
func tagName(b []byte) string {
	if t, _, err := tlv.ReadTag(b); err == nil {
		return elementName(t)
	}
	return fmt.Sprintf("a tag starting %02X", b[0])
}

// element processes one complete profile element.
func (p *Parser) element(tag tlv.Tag, v []byte) error {
	name := elementName(tag)
	if err := checkStructure(v, 1); err != nil {
		return fmt.Errorf("%w: %s at offset %d: %w", ErrMalformed, name, p.done, err)
	}
	p.prof.Elements++
	var err error
	switch tag {
	case tagHeader:
		if p.gotHeader {
			return fmt.Errorf("%w: second ProfileHeader at offset %d", ErrMalformed, p.done)
		}
		err = p.header(v)
		p.gotHeader = true
	case tagEnd:
		p.gotEnd = true
	case tagMF:
		err = p.mf(v)
	case tagUSIM:
		if !p.gotIMSI {
			err = p.usim(v)
		}
	}
	if err != nil {
		return fmt.Errorf("%s at offset %d: %w", name, p.done, err)
	}
	return nil
}

// checkStructure verifies that v is a sequence of well-formed BER TLVs,
// descending into constructed ones.
func checkStructure(v []byte, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("nested deeper than %d levels", maxDepth)
	}
	for len(v) > 0 {
		t, rest, err := tlv.Decode(v)
		if err != nil {
			return err
		}
		if t.Tag.Constructed() {
			if err := checkStructure(t.Value, depth+1); err != nil {
				return fmt.Errorf("in %s: %w", t.Tag, err)
			}
		}
		v = rest
	}
	return nil
}

// header decodes the ProfileHeader {major-version [0], minor-version [1],
// profileType [2] OPTIONAL, iccid [3], ...}.
func (p *Parser) header(v []byte) error {
	fields, err := tlv.DecodeAll(v)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	var major, minor, iccid bool
	for _, f := range fields {
		switch f.Tag {
		case 0x80, 0x81:
			n, err := decUint(f.Value, 255)
			if err != nil {
				return fmt.Errorf("%w: version: %w", ErrMalformed, err)
			}
			if f.Tag == 0x80 {
				p.prof.MajorVersion, major = n, true
			} else {
				p.prof.MinorVersion, minor = n, true
			}
		case 0x82:
			if !utf8.Valid(f.Value) || len(f.Value) < 1 || len(f.Value) > 100 {
				return fmt.Errorf("%w: profileType is not 1..100 bytes of UTF-8", ErrMalformed)
			}
			p.prof.ProfileType = string(f.Value)
		case 0x83:
			id, err := decodeHeaderICCID(f.Value)
			if err != nil {
				return err
			}
			p.prof.ICCID, iccid = id, true
		}
	}
	switch {
	case !major || !minor:
		return fmt.Errorf("%w: major-version or minor-version missing", ErrMalformed)
	case !iccid:
		return fmt.Errorf("%w: iccid missing", ErrMalformed)
	}
	return nil
}

// mf reads EF.ICCID (ef-iccid [4]) of PE-MF and checks it against the
// header.
func (p *Parser) mf(v []byte) error {
	f, ok, err := field(v, ctx(4, true))
	if err != nil || !ok {
		return err
	}
	content, created, err := fileContent(f)
	if err != nil {
		return fmt.Errorf("%w: EF.ICCID: %w", ErrMalformed, err)
	}
	if !created || len(content) == 0 {
		return nil
	}
	if len(content) < 10 {
		return fmt.Errorf("%w: EF.ICCID has %d bytes, want 10", ErrMalformed, len(content))
	}
	id, err := rsp.DecodeICCID(content[:10])
	if err != nil {
		return fmt.Errorf("%w: EF.ICCID: %w", ErrMalformed, err)
	}
	if id != p.prof.ICCID {
		return fmt.Errorf("%w: EF.ICCID %s differs from header ICCID %s", ErrMalformed, id, p.prof.ICCID)
	}
	return nil
}

// usim reads EF.IMSI (ef-imsi [3]) and EF.SPN (ef-spn [13]) of PE-USIM.
func (p *Parser) usim(v []byte) error {
	f, ok, err := field(v, ctx(3, true))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: ef-imsi missing", ErrMalformed)
	}
	content, created, err := fileContent(f)
	if err != nil {
		return fmt.Errorf("%w: EF.IMSI: %w", ErrMalformed, err)
	}
	if !created || len(content) == 0 {
		return fmt.Errorf("%w: EF.IMSI has no content", ErrMalformed)
	}
	imsi, err := decodeIMSI(content)
	if err != nil {
		return err
	}
	p.prof.IMSI, p.gotIMSI = imsi, true

	f, ok, err = field(v, ctx(13, true))
	if err != nil || !ok {
		return err
	}
	if content, created, err := fileContent(f); err == nil && created {
		if spn, err := decodeSPN(content); err == nil {
			p.prof.SPN = spn
		}
	}
	return nil
}

// field returns the value of the first child of v with the given tag.
func field(v []byte, tag tlv.Tag) ([]byte, bool, error) {
	for len(v) > 0 {
		t, rest, err := tlv.Decode(v)
		if err != nil {
			return nil, false, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		if t.Tag == tag {
			return t.Value, true, nil
		}
		v = rest
	}
	return nil, false, nil
}

// fileContent linearises a File (SEQUENCE OF CHOICE {doNotCreate [0],
// fileDescriptor [1], fillFileOffset [2], fillFileContent [3]}): offsets
// skip bytes (read as FF), contents are appended. At most fileContentLimit
// bytes are kept. created is false when the file carries doNotCreate.
func fileContent(v []byte) (content []byte, created bool, err error) {
	items, err := tlv.DecodeAll(v)
	if err != nil {
		return nil, false, err
	}
	for _, it := range items {
		switch it.Tag {
		case fileDoNotCreate:
			return nil, false, nil
		case fileFillOffset:
			n, err := decUint(it.Value, 0xFFFF)
			if err != nil {
				return nil, false, fmt.Errorf("fillFileOffset: %w", err)
			}
			for ; n > 0 && len(content) < fileContentLimit; n-- {
				content = append(content, 0xFF)
			}
		case fileFillContent:
			room := fileContentLimit - len(content)
			content = append(content, it.Value[:min(room, len(it.Value))]...)
		}
	}
	return content, true, nil
}

// Close ends the input and returns the profile. It fails with ErrIncomplete
// when the input stopped inside an element or before PE-End, and with
// ErrMalformed when no PE-USIM carried an IMSI. Later calls return the same
// result.
func (p *Parser) Close() (Profile, error) {
	if p.closed {
		return p.closeProf, p.closeErr
	}
	p.closed = true
	p.closeProf, p.closeErr = p.finish()
	return p.closeProf, p.closeErr
}

func (p *Parser) finish() (Profile, error) {
	switch {
	case p.err != nil:
		return Profile{}, p.err
	case len(p.buf) > 0:
		return Profile{}, fmt.Errorf("%w: input ends inside an element (%d bytes of it at offset %d)", ErrIncomplete, len(p.buf), p.done)
	case !p.gotHeader:
		return Profile{}, fmt.Errorf("%w: no ProfileHeader", ErrIncomplete)
	case !p.gotEnd:
		return Profile{}, fmt.Errorf("%w: no PE-End after %d elements", ErrIncomplete, p.prof.Elements)
	case p.prof.ICCID == "":
		return Profile{}, fmt.Errorf("%w: no ICCID", ErrMalformed)
	case !p.gotIMSI:
		return Profile{}, fmt.Errorf("%w: no PE-USIM with EF.IMSI", ErrMalformed)
	}
	prof := p.prof
	prof.Size = p.done
	return prof, nil
}

// Parse parses a complete UPP (at most DefaultMaxSize bytes).
func Parse(upp []byte) (Profile, error) {
	p := NewParser(0)
	if _, err := p.Write(upp); err != nil {
		return Profile{}, err
	}
	return p.Close()
}
