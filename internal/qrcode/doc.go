// Package qrcode reads eSIM activation codes that the user brings without a
// portal: a photo or screenshot of the operator's QR code (Decode,
// DecodeFile), or the code's text, scanned or pasted (ActivationCode).
//
// Decode accepts PNG and JPEG only. It reads at most MaxFileSize bytes and
// checks the dimensions in the image header (image.DecodeConfig) before
// decoding, so a small file that declares a huge image (a decompression
// bomb) is refused with a *SizeError before any pixel memory is allocated:
// at most MaxSide pixels a side and MaxPixels in all, enough for the photos
// of phone cameras at their default resolution. The QR code is found and read with gozxing
// (github.com/makiuchi-d/gozxing, pure Go), trying harder and then with a
// global-histogram binariser and inverted, so that photos (the code small,
// off-centre, on a grey table) work as well as clean screenshots.
//
// ActivationCode turns the text of an eSIM QR code, "LPA:1$<SM-DP+
// address>$<matching ID>" (SGP.22 4.1; "lpa:" too; surrounding white space
// ignored; the "LPA:" prefix optional, so a pasted code works), into the
// code without the prefix ("1$smdp.example.com$ABC-123"), which is what
// the app's download takes (mobile-plans.md 3.4). It is checked with
// lpa.ParseActivationCode; a code that requires a confirmation code is
// refused (ErrConfirmationCodeRequired), since the app has no way to ask
// for one.
//
// Errors are typed for the UI: errors.Is(err, ErrNotImage), ErrTooLarge
// (*SizeError), ErrNoQRCode, ErrNotActivationCode and
// ErrConfirmationCodeRequired (*CodeError, whose Problem is a sentence for
// the user). Messages never quote a matching ID.
package qrcode
