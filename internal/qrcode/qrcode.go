package qrcode

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // register JPEG for image.Decode
	_ "image/png"  // register PNG for image.Decode
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/mobileplans/mobileplans/esim/lpa"
)

// Limits of Decode.
const (
	// MaxFileSize bounds the encoded image.
	MaxFileSize = 24 << 20
	// MaxSide bounds the width and the height in pixels.
	MaxSide = 8192
	// MaxPixels bounds width times height: a 16-megapixel photo, the
	// default output of phone cameras (at most 128 MB decoded, for a
	// 16-bit RGBA PNG).
	MaxPixels = 16_000_000
)

// Sentinel errors; errors.Is matches them against the typed errors.
var (
	// ErrNotImage: the data is not a PNG or JPEG image, or is damaged.
	ErrNotImage = errors.New("qrcode: not a PNG or JPEG image")
	// ErrTooLarge: the file or the image it declares is too large
	// (*SizeError).
	ErrTooLarge = errors.New("qrcode: image too large")
	// ErrNoQRCode: no readable QR code was found in the image.
	ErrNoQRCode = errors.New("qrcode: no QR code found in the image")
	// ErrNotActivationCode: the text is not a valid eSIM activation code
	// (*CodeError).
	ErrNotActivationCode = errors.New("qrcode: not an eSIM activation code")
	// ErrConfirmationCodeRequired: the activation code asks for a
	// confirmation code (*CodeError).
	ErrConfirmationCodeRequired = errors.New("qrcode: the activation code requires a confirmation code")
)

// SizeError refuses an image before it is decoded: Bytes is set when the
// file is longer than MaxFileSize, Width and Height (from the header) when
// the image is larger than MaxSide or MaxPixels.
type SizeError struct {
	Width, Height int
	Bytes         int64
}

func (e *SizeError) Error() string {
	if e.Bytes > 0 {
		return fmt.Sprintf("qrcode: the file is larger than %d MB", MaxFileSize>>20)
	}
	return fmt.Sprintf("qrcode: the image is %d x %d pixels, larger than this app reads (%d pixels a side, %d megapixels)",
		e.Width, e.Height, MaxSide, MaxPixels/1_000_000)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *SizeError) Is(target error) bool { return target == ErrTooLarge }

// CodeError refuses the text of a QR code or a pasted code.
type CodeError struct {
	// Kind is ErrNotActivationCode or ErrConfirmationCodeRequired.
	Kind error
	// Problem says what is wrong, in words for the user.
	Problem string
	// Err is the parser's detail (wrapping lpa.ErrBadActivationCode), if
	// any.
	Err error
}

func (e *CodeError) Error() string {
	s := "qrcode: " + e.Problem
	if e.Err != nil {
		s += " (" + e.Err.Error() + ")"
	}
	return s
}

// Is matches Kind.
func (e *CodeError) Is(target error) bool { return target == e.Kind }

// Unwrap returns the parser's detail.
func (e *CodeError) Unwrap() error { return e.Err }

// Decode reads a PNG or JPEG image from r and returns the text of the QR
// code in it. Errors: ErrTooLarge (*SizeError) before decoding, ErrNotImage,
// ErrNoQRCode; an error of r is returned wrapped.
func Decode(r io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return "", fmt.Errorf("qrcode: reading the image: %w", err)
	}
	if len(data) > MaxFileSize {
		return "", &SizeError{Bytes: int64(len(data))}
	}
	img, err := decodeImage(data)
	if err != nil {
		return "", err
	}
	return readQR(img)
}

// DecodeFile is Decode of the file at path.
func DecodeFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("qrcode: %w", err)
	}
	defer f.Close()
	return Decode(f)
}

// decodeImage checks the header, then decodes.
func decodeImage(data []byte) (image.Image, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	// The format registry is global: other packages may add formats.
	if format != "png" && format != "jpeg" {
		return nil, fmt.Errorf("%w: the file is %s", ErrNotImage, format)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: the image is empty", ErrNotImage)
	}
	if cfg.Width > MaxSide || cfg.Height > MaxSide || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, &SizeError{Width: cfg.Width, Height: cfg.Height}
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	return img, nil
}

// readQR looks for a QR code: the hybrid binariser (local thresholds, for
// photos) first, then a global histogram, each also inverted (light
// modules on dark).
func readQR(img image.Image) (text string, err error) {
	src := gozxing.NewLuminanceSourceFromImage(img)
	hints := map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_TRY_HARDER:       true,
		gozxing.DecodeHintType_POSSIBLE_FORMATS: []gozxing.BarcodeFormat{gozxing.BarcodeFormat_QR_CODE},
	}
	var last error
	for _, s := range []gozxing.LuminanceSource{src, src.Invert()} {
		for _, binarizer := range []func(gozxing.LuminanceSource) gozxing.Binarizer{
			gozxing.NewHybridBinarizer, gozxing.NewGlobalHistgramBinarizer,
		} {
			text, err := decodeWith(binarizer(s), hints)
			if err == nil {
				return text, nil
			}
			last = err
		}
	}
	return "", fmt.Errorf("%w (%v)", ErrNoQRCode, last)
}

// decodeWith runs the reader once; a panic inside gozxing (it is not
// written for hostile input) counts as not found.
func decodeWith(b gozxing.Binarizer, hints map[gozxing.DecodeHintType]any) (text string, err error) {
	defer func() {
		if p := recover(); p != nil {
			text, err = "", fmt.Errorf("decoder failed: %v", p)
		}
	}()
	bmp, err := gozxing.NewBinaryBitmap(b)
	if err != nil {
		return "", err
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		return "", err
	}
	if res.GetText() == "" {
		return "", errors.New("empty QR code")
	}
	return res.GetText(), nil
}

// lpaPrefix starts the text of an eSIM QR code (SGP.22 4.1).
const lpaPrefix = "LPA:"

// ActivationCode returns the activation code in the text of an eSIM QR
// code or a pasted code, without the "LPA:" prefix
// ("1$<SM-DP+ address>$<matching ID>[$<OID>]"). See the package
// documentation for what is accepted. Errors are *CodeError.
func ActivationCode(text string) (string, error) {
	s := strings.TrimSpace(text)
	if s == "" {
		return "", &CodeError{Kind: ErrNotActivationCode, Problem: "there is no activation code: the text is empty"}
	}
	bare := s
	if len(s) >= len(lpaPrefix) && strings.EqualFold(s[:len(lpaPrefix)], lpaPrefix) {
		bare = s[len(lpaPrefix):]
	}
	if !strings.HasPrefix(bare, "1$") {
		return "", &CodeError{Kind: ErrNotActivationCode, Problem: "this is not an eSIM activation code: those start with LPA:1$ " +
			"(" + describe(s) + ")"}
	}
	ac, err := lpa.ParseActivationCode(s)
	if err != nil {
		return "", &CodeError{Kind: ErrNotActivationCode, Problem: "this eSIM activation code is damaged or incomplete", Err: err}
	}
	if ac.ConfirmationCodeRequired {
		return "", &CodeError{Kind: ErrConfirmationCodeRequired,
			Problem: "this activation code needs a confirmation code from your operator, which Mobile Plans cannot ask for"}
	}
	return ac.String(), nil
}

// describe names what the text looks like, without quoting it (it may be
// someone's secret).
func describe(s string) string {
	switch {
	case strings.HasPrefix(strings.ToLower(s), "http://"), strings.HasPrefix(strings.ToLower(s), "https://"):
		return "this one is a web address"
	case strings.HasPrefix(strings.ToUpper(s), "WIFI:"):
		return "this one is a Wi-Fi network"
	case len(s) >= len(lpaPrefix) && strings.EqualFold(s[:len(lpaPrefix)], lpaPrefix):
		return "this one has an unknown format after LPA:"
	}
	return "this text has " + strconv.Itoa(len(s)) + " characters of something else"
}
