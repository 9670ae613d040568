package bsp

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/mobileplans/mobileplans/esim/tlv"
)

// KeyAgreement is the eUICC's handling of InitialiseSecureChannel, called
// by the Unwrapper with the parsed BF23. It must check the transactionId
// against the current session (failing with an error wrapping
// ErrTransactionID), verify smdpSign over isc.SignedData(otPK.EUICC.ECKA)
// with the public key of the stored CERT.DPpb (ErrSignature), and return
// the session keys, normally isc.SessionKeys(otSK.EUICC.ECKA, eid).
type KeyAgreement func(isc *InitialiseSecureChannel) (SessionKeys, error)

// Options configures an Unwrapper.
type Options struct {
	// Logger receives debug logs of the processing steps (never key
	// material). Nil discards them.
	Logger *slog.Logger
}

// Result is what one Unwrapper.Feed produced. The byte slices are fresh
// copies owned by the caller.
type Result struct {
	// ConfigureISDP is the decrypted content of A0 (the
	// ConfigureISDPRequest BF24), set by the Feed that completes A0.
	ConfigureISDP []byte
	// StoreMetadata is the verified content of A1 (the StoreMetadataRequest
	// BF25), set by the Feed that completes A1.
	StoreMetadata []byte
	// KeysReplaced reports that this Feed processed A2: the rest of the
	// profile is protected with the keys of ReplaceSessionKeys.
	KeysReplaced bool
	// ProfileData is the decrypted data of the 86 segments of this Feed, in
	// order: the next part of the unprotected profile package.
	ProfileData []byte
	// Done reports that the whole BF36 has been received and verified.
	Done bool
}

type unwrapState int

const (
	wantBPP unwrapState = iota
	wantSecureChannel
	wantSequence
	inSequence
	finished
)

// sequenceRule describes one of the sequences A0..A3 of the BPP.
type sequenceRule struct {
	tag      tlv.Tag
	child    byte
	cmd      BPPCommand
	optional bool
}

const (
	seqA0 = iota
	seqA1
	seqA2
	seqA3
)

// sequenceRuleAt returns the rule of sequence i (seqA0..seqA3).
func sequenceRuleAt(i int) sequenceRule {
	return [...]sequenceRule{
		seqA0: {TagFirstSequenceOf87, TagEncryptedSegment, CmdConfigureISDP, false},
		seqA1: {TagSequenceOf88, TagMACOnlySegment, CmdStoreMetadata, false},
		seqA2: {TagSecondSequenceOf87, TagEncryptedSegment, CmdReplaceSessionKeys, true},
		seqA3: {TagSequenceOf86, TagProfileSegment, CmdLoadProfileElements, false},
	}[i]
}

// Unwrapper is the cryptographic part of the eUICC's
// ES10b.LoadBoundProfilePackage processing. It takes the transfers of one
// BPP in order, as produced by Segments or any other split where every
// transfer consists of complete BPP elements: the BF36 and A0..A3 headers
// and whole BF23, 86, 87 and 88 TLVs. It checks the structure, opens the
// secure channel through the KeyAgreement, verifies and decrypts every
// segment, switches keys on ReplaceSessionKeys, and knows from the BF36
// and A3 lengths when the package is complete.
//
// After the first error the Unwrapper is finished: SGP.22 drops the session.
// It is not safe for concurrent use.
type Unwrapper struct {
	agree    KeyAgreement
	log      *slog.Logger
	state    unwrapState
	bppLeft  int // content bytes of BF36 not yet received
	seq      int // index (seqA0..seqA3) of the current/next sequence
	seqLeft  int // content bytes of the current sequence not yet received
	acc      []byte
	u        *Unprotector
	segments int // segments opened, for logs
}

// NewUnwrapper returns an Unwrapper that opens the secure channel with agree.
func NewUnwrapper(agree KeyAgreement, opts Options) *Unwrapper {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Unwrapper{agree: agree, log: log}
}

// Command returns the BppCommandId an error at this point is attributed
// to: the step in progress, or between two sequences the next mandatory one
// (after A1 that is loadProfileElements, as A2 is optional).
func (w *Unwrapper) Command() BPPCommand {
	switch w.state {
	case wantBPP, wantSecureChannel:
		return CmdInitialiseSecureChannel
	case wantSequence:
		if r := sequenceRuleAt(w.seq); r.optional {
			return sequenceRuleAt(w.seq + 1).cmd
		}
	}
	return sequenceRuleAt(w.seq).cmd
}

// Feed processes one transfer. Errors are *LoadError values carrying the
// bppCommandId and errorReason for the ProfileInstallationResult; their
// chain holds ErrFormat, ErrMAC, ErrPadding, ErrUnsupportedCRT,
// ErrUnsupportedRemoteOp or the KeyAgreement's error. Feeding a finished
// Unwrapper returns ErrFinished.
func (w *Unwrapper) Feed(transfer []byte) (Result, error) {
	if w.state == finished {
		return Result{}, ErrFinished
	}
	if len(transfer) == 0 {
		return Result{}, w.fail(fmt.Errorf("%w: empty transfer", ErrFormat))
	}
	var res Result
	for len(transfer) > 0 {
		if w.state == finished {
			return Result{}, w.fail(fmt.Errorf("%w: %d bytes after the end of the BPP", ErrFormat, len(transfer)))
		}
		n, err := w.step(transfer, &res)
		if err != nil {
			return Result{}, w.fail(err)
		}
		transfer = transfer[n:]
	}
	return res, nil
}

func (w *Unwrapper) fail(err error) error {
	le := &LoadError{Command: w.Command(), Reason: ReasonFor(err), Err: err}
	w.log.Debug("bpp: load failed", "command", le.Command.String(), "reason", int(le.Reason), "err", err)
	w.state = finished
	w.acc = nil
	w.u = nil
	return le
}

// consume accounts n bytes against the BF36 length.
func (w *Unwrapper) consume(n int) error {
	if n > w.bppLeft {
		return fmt.Errorf("%w: element of %d bytes overruns BF36 (%d bytes left)", ErrFormat, n, w.bppLeft)
	}
	w.bppLeft -= n
	return nil
}

// header reads a tag and length at the start of b.
func header(b []byte) (tag tlv.Tag, length, n int, err error) {
	tag, tn, err := tlv.ReadTag(b)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	length, ln, err := tlv.ReadLength(b[tn:])
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%w: tag %s: %w", ErrFormat, tag, err)
	}
	return tag, length, tn + ln, nil
}

// element returns the length of the complete TLV at the start of b.
func element(b []byte) (tlv.Tag, int, error) {
	t, rest, err := tlv.Decode(b)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: transfer does not end on an element boundary: %w", ErrFormat, err)
	}
	return t.Tag, len(b) - len(rest), nil
}

// step processes the element at the start of b and returns its size.
func (w *Unwrapper) step(b []byte, res *Result) (int, error) {
	switch w.state {
	case wantBPP:
		tag, length, n, err := header(b)
		if err != nil {
			return 0, err
		}
		if tag != TagBoundProfilePackage {
			return 0, fmt.Errorf("%w: tag %s, want %s", ErrFormat, tag, TagBoundProfilePackage)
		}
		w.bppLeft = length
		w.state = wantSecureChannel
		return n, nil

	case wantSecureChannel:
		_, n, err := element(b)
		if err != nil {
			return 0, err
		}
		if err := w.consume(n); err != nil {
			return 0, err
		}
		isc, err := ParseInitialiseSecureChannel(b[:n])
		if err != nil {
			return 0, err
		}
		if w.agree == nil {
			return 0, errors.New("bsp: no key agreement configured")
		}
		keys, err := w.agree(isc)
		if err != nil {
			return 0, fmt.Errorf("bsp: initialise secure channel: %w", err)
		}
		if err := keys.Validate(); err != nil {
			return 0, fmt.Errorf("bsp: initialise secure channel: %w", err)
		}
		w.u = NewUnprotector(keys)
		w.state, w.seq = wantSequence, seqA0
		w.log.Debug("bpp: secure channel open", "transfer_bytes", n)
		return n, w.checkRemaining()

	case wantSequence:
		tag, length, n, err := header(b)
		if err != nil {
			return 0, err
		}
		if rule := sequenceRuleAt(w.seq); tag != rule.tag {
			if !rule.optional || tag != sequenceRuleAt(w.seq+1).tag {
				return 0, fmt.Errorf("%w: %s where %s belongs", ErrFormat, tag, rule.tag)
			}
			w.seq++
		}
		// From here on errors belong to the sequence just identified.
		w.seqLeft, w.acc, w.state = length, nil, inSequence
		if err := w.consume(n); err != nil {
			return 0, err
		}
		if length == 0 || length > w.bppLeft {
			return 0, fmt.Errorf("%w: %s of %d bytes in %d bytes left of BF36", ErrFormat, tag, length, w.bppLeft)
		}
		return n, nil

	case inSequence:
		rule := sequenceRuleAt(w.seq)
		tag, n, err := element(b)
		if err != nil {
			return 0, err
		}
		if tag != tlv.Tag(rule.child) {
			return 0, fmt.Errorf("%w: %s holds %s, want %02X", ErrFormat, rule.tag, tag, rule.child)
		}
		if n > w.seqLeft {
			return 0, fmt.Errorf("%w: segment of %d bytes overruns %s (%d bytes left)", ErrFormat, n, rule.tag, w.seqLeft)
		}
		_, pt, err := w.u.Open(b[:n])
		if err != nil {
			return 0, err
		}
		w.segments++
		w.seqLeft -= n
		w.bppLeft -= n // cannot underflow: seqLeft <= bppLeft
		if w.seq == seqA3 {
			res.ProfileData = append(res.ProfileData, pt...)
		} else {
			w.acc = append(w.acc, pt...)
		}
		if w.seqLeft == 0 {
			return n, w.endSequence(res)
		}
		return n, nil

	default:
		return 0, ErrFinished
	}
}

// endSequence handles the completion of the current sequence.
func (w *Unwrapper) endSequence(res *Result) error {
	w.log.Debug("bpp: sequence complete", "sequence", sequenceRuleAt(w.seq).tag.String(), "segments", w.segments)
	switch w.seq {
	case seqA0:
		res.ConfigureISDP = w.acc
	case seqA1:
		res.StoreMetadata = w.acc
	case seqA2:
		keys, err := DecodeReplaceSessionKeys(w.acc)
		clear(w.acc)
		if err != nil {
			return err
		}
		w.u = NewUnprotector(keys)
		res.KeysReplaced = true
	case seqA3:
		if w.bppLeft != 0 {
			return fmt.Errorf("%w: %d bytes of BF36 after %s", ErrFormat, w.bppLeft, TagSequenceOf86)
		}
		res.Done = true
		w.state = finished
		return nil
	}
	w.acc = nil
	w.seq++
	w.state = wantSequence
	return w.checkRemaining()
}

// checkRemaining fails when BF36 ends before its last sequence.
func (w *Unwrapper) checkRemaining() error {
	if w.bppLeft == 0 {
		return fmt.Errorf("%w: BF36 ends before %s", ErrFormat, sequenceRuleAt(w.seq).tag)
	}
	return nil
}
