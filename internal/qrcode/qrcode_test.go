package qrcode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/mobileplans/mobileplans/esim/lpa"
)

// matrix encodes text as a QR code of at least size x size pixels with a
// quiet zone of margin modules.
func matrix(t testing.TB, text string, size, margin int) *gozxing.BitMatrix {
	t.Helper()
	m, err := qrcode.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, size, size,
		map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_MARGIN: margin})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func pngOf(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegOf(t testing.TB, img image.Image, quality int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// photo draws m like a photo of a printed code: scaled, turned by deg
// degrees, off-centre on a grey background with uneven light and noise,
// dark modules dark grey, light ones light grey.
func photo(m *gozxing.BitMatrix, w, h int, scale, deg float64, cx, cy int) image.Image {
	img := image.NewGray(image.Rect(0, 0, w, h))
	rnd := rand.New(rand.NewPCG(1, 2))
	sin, cos := math.Sincos(deg * math.Pi / 180)
	mw, mh := float64(m.GetWidth()), float64(m.GetHeight())
	for y := range h {
		for x := range w {
			// Background: grey with a gradient of light across the table.
			v := 110 + 40*float64(x)/float64(w) + 20*float64(y)/float64(h)
			// Inverse rotation into the code's module space.
			dx, dy := float64(x-cx), float64(y-cy)
			u := (cos*dx+sin*dy)/scale + mw/2
			vv := (-sin*dx+cos*dy)/scale + mh/2
			if u >= 0 && vv >= 0 && u < mw && vv < mh {
				if m.Get(int(u), int(vv)) {
					v = 40
				} else {
					v = 215
				}
			}
			v += rnd.NormFloat64() * 8
			img.SetGray(x, y, color.Gray{Y: uint8(max(0, min(255, v)))})
		}
	}
	return img
}

// Activation codes as operators print them (SGP.22 4.1).
var codes = []string{
	"LPA:1$smdp.contoso.test$JO46UQDI07IKQDGG",
	"LPA:1$rsp.truphone.com$QRF-BETTERROAMING-PMRDGIR2EARDEIT5",
	"LPA:1$127.0.0.1:8443$MATCH-0001-ABCD",
	"LPA:1$smdp.example.com$" + strings.Repeat("A1-", 40) + "$1.3.6.1.4.1.31746",
}

func TestDecodeGolden(t *testing.T) {
	type tc struct {
		name string
		data []byte
		want string
	}
	var tests []tc
	for _, c := range codes {
		m := matrix(t, c, 0, 4)
		big := matrix(t, c, 400, 4)
		tests = append(tests,
			tc{"png minimal " + c, pngOf(t, m), c},
			tc{"png 400px " + c, pngOf(t, big), c},
			tc{"jpeg 400px " + c, jpegOf(t, big, 80), c},
		)
	}
	m := matrix(t, codes[1], 0, 4) // with its quiet zone, as printed
	tests = append(tests,
		tc{"photo jpeg", jpegOf(t, photo(m, 800, 600, 5, 0, 300, 330), 75), codes[1]},
		tc{"photo turned", jpegOf(t, photo(m, 800, 600, 6, 11, 430, 280), 70), codes[1]},
		tc{"photo png small code", pngOf(t, photo(m, 1024, 768, 3.2, -4, 700, 200)), codes[1]},
		tc{"lower-case prefix", pngOf(t, matrix(t, "lpa:1$smdp.contoso.test$X1", 0, 4)), "lpa:1$smdp.contoso.test$X1"},
	)
	// Light modules on dark (an inverted rendering).
	inv := image.NewGray(image.Rect(0, 0, 300, 300))
	big := matrix(t, codes[0], 300, 4)
	for y := range 300 {
		for x := range 300 {
			if !big.Get(x, y) {
				inv.SetGray(x, y, color.Gray{Y: 0})
			} else {
				inv.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	tests = append(tests, tc{"inverted", pngOf(t, inv), codes[0]})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(bytes.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Decode = %q, want %q", got, tt.want)
			}
			ac, err := ActivationCode(got)
			if err != nil {
				t.Fatalf("ActivationCode: %v", err)
			}
			if !strings.HasPrefix(ac, "1$") || !strings.EqualFold("LPA:"+ac, tt.want) {
				t.Errorf("ActivationCode = %q for %q", ac, tt.want)
			}
		})
	}
}

// hugePNG is a valid PNG header (signature and IHDR with a correct CRC)
// declaring a w x h RGBA image, followed by IEND and no pixel data.
func hugePNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return b.Bytes()
}

// hugeJPEG is the start of a baseline JPEG declaring w x h pixels.
func hugeJPEG(t *testing.T, w, h uint16) []byte {
	t.Helper()
	small := jpegOf(t, image.NewGray(image.Rect(0, 0, 8, 8)), 90)
	i := bytes.Index(small, []byte{0xff, 0xc0}) // SOF0: len(2) precision(1) height(2) width(2)
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(small[i+5:], h)
	binary.BigEndian.PutUint16(small[i+7:], w)
	return small
}

func TestDecodeRefusesLargeImages(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		w, h int
	}{
		{"PNG 100000 x 100000", hugePNG(100000, 100000), 100000, 100000},
		{"PNG 2^31-1 wide", hugePNG(math.MaxInt32, 1), math.MaxInt32, 1},
		{"PNG side over MaxSide", hugePNG(MaxSide+1, 10), MaxSide + 1, 10},
		{"PNG pixels over MaxPixels", hugePNG(5000, 4000), 5000, 4000},
		{"JPEG 65535 x 65535", hugeJPEG(t, 65535, 65535), 65535, 65535},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := Decode(bytes.NewReader(tt.data))
			runtime.ReadMemStats(&after)
			var se *SizeError
			if !errors.As(err, &se) || !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want a *SizeError", err)
			}
			if se.Width != tt.w || se.Height != tt.h {
				t.Errorf("SizeError %+v, want %d x %d", se, tt.w, tt.h)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
				t.Errorf("refusing the header allocated %d bytes", n)
			}
		})
	}
	t.Run("file over MaxFileSize", func(t *testing.T) {
		r := io.MultiReader(bytes.NewReader(pngOf(t, matrix(t, codes[0], 0, 4))), io.LimitReader(zeros{}, MaxFileSize))
		_, err := Decode(r)
		var se *SizeError
		if !errors.As(err, &se) || se.Bytes != MaxFileSize+1 {
			t.Fatalf("err = %v, want a *SizeError of the bytes", err)
		}
	})
	t.Run("just within the limits", func(t *testing.T) {
		img := image.NewGray(image.Rect(0, 0, 4000, 4000))
		_, err := Decode(bytes.NewReader(pngOf(t, img)))
		if !errors.Is(err, ErrNoQRCode) {
			t.Fatalf("err = %v, want ErrNoQRCode (decoded, nothing found)", err)
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestDecodeErrors(t *testing.T) {
	noise := image.NewGray(image.Rect(0, 0, 320, 240))
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rnd.IntN(256))
	}
	gradient := image.NewRGBA(image.Rect(0, 0, 200, 100))
	for y := range 100 {
		for x := range 200 {
			gradient.Set(x, y, color.RGBA{uint8(x), uint8(y * 2), 128, 255})
		}
	}
	qr := pngOf(t, matrix(t, codes[0], 200, 4))
	tests := []struct {
		name string
		r    io.Reader
		want error
	}{
		{"noise", bytes.NewReader(pngOf(t, noise)), ErrNoQRCode},
		{"gradient jpeg", bytes.NewReader(jpegOf(t, gradient, 90)), ErrNoQRCode},
		{"blank", bytes.NewReader(pngOf(t, image.NewGray(image.Rect(0, 0, 50, 50)))), ErrNoQRCode},
		{"text", strings.NewReader("LPA:1$smdp.contoso.test$JO46UQDI07IKQDGG"), ErrNotImage},
		{"empty", strings.NewReader(""), ErrNotImage},
		{"gif", strings.NewReader("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ErrNotImage},
		{"truncated png", bytes.NewReader(qr[:len(qr)/2]), ErrNotImage},
		{"zero-size png", bytes.NewReader(hugePNG(0, 0)), ErrNotImage},
		{"png header only", bytes.NewReader(hugePNG(100, 100)), ErrNotImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.r)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %q, %v; want %v", got, err, tt.want)
			}
		})
	}
	t.Run("reader error", func(t *testing.T) {
		boom := errors.New("boom")
		if _, err := Decode(iotest.ErrReader(boom)); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want it to wrap the reader's", err)
		}
	})
}

func TestDecodeFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "code.png")
	if err := os.WriteFile(path, pngOf(t, matrix(t, codes[2], 0, 4)), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeFile(path)
	if err != nil || got != codes[2] {
		t.Fatalf("DecodeFile = %q, %v", got, err)
	}
	if _, err := DecodeFile(filepath.Join(dir, "missing.png")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestActivationCode(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"LPA:1$smdp.contoso.test$JO46UQDI07IKQDGG", "1$smdp.contoso.test$JO46UQDI07IKQDGG", nil},
		{"lpa:1$smdp.contoso.test$JO46UQDI07IKQDGG", "1$smdp.contoso.test$JO46UQDI07IKQDGG", nil},
		{"  LPA:1$smdp.contoso.test$ABC-123\r\n", "1$smdp.contoso.test$ABC-123", nil},
		{"1$smdp.contoso.test$ABC-123", "1$smdp.contoso.test$ABC-123", nil}, // pasted without the prefix
		{"\t1$127.0.0.1:8443$MATCH-0001-ABCD ", "1$127.0.0.1:8443$MATCH-0001-ABCD", nil},
		{"LPA:1$[::1]:8443$M", "1$[::1]:8443$M", nil},
		{"LPA:1$smdp.example.com$ABC$1.3.6.1.4.1.31746", "1$smdp.example.com$ABC$1.3.6.1.4.1.31746", nil},
		{"LPA:1$smdp.example.com$ABC$$0", "1$smdp.example.com$ABC", nil},
		{"LPA:1$smdp.example.com$", "1$smdp.example.com$", nil}, // empty matching ID (SGP.22 allows it)

		{"LPA:1$smdp.example.com$ABC$$1", "", ErrConfirmationCodeRequired},
		{"LPA:1$smdp.example.com$ABC$1.2.3$1", "", ErrConfirmationCodeRequired},
		{"", "", ErrNotActivationCode},
		{"   \n", "", ErrNotActivationCode},
		{"LPA:", "", ErrNotActivationCode},
		{"LPA:2$smdp.example.com$ABC", "", ErrNotActivationCode},
		{"https://contoso.test/esim", "", ErrNotActivationCode},
		{"WIFI:S:Contoso;T:WPA;P:secret;;", "", ErrNotActivationCode},
		{"LPA:1$smdp example.com$ABC", "", ErrNotActivationCode},
		{"LPA:1$smdp.example.com", "", ErrNotActivationCode},
		{"LPA:1$smdp.example.com$SECRET!ID", "", ErrNotActivationCode},
		{"LPA:1$smdp.example.com$ABC$not-an-oid", "", ErrNotActivationCode},
		{"LPA:1$smdp.example.com$ABC$$2", "", ErrNotActivationCode},
		{"LPA:1$smdp.example.com$" + strings.Repeat("A", 300), "", ErrNotActivationCode},
		{"LPA:1$smdp.example.com:99999$ABC", "", ErrNotActivationCode},
		{"LPA: 1$smdp.example.com$ABC", "", ErrNotActivationCode},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ActivationCode(tt.in)
			if tt.err == nil {
				if err != nil || got != tt.want {
					t.Fatalf("ActivationCode = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			var ce *CodeError
			if !errors.Is(err, tt.err) || !errors.As(err, &ce) || got != "" {
				t.Fatalf("ActivationCode = %q, %v; want a *CodeError %v", got, err, tt.err)
			}
			if ce.Problem == "" || strings.Contains(ce.Problem, "lpa:") {
				t.Errorf("Problem %q is not for the user", ce.Problem)
			}
			for _, secret := range []string{"SECRET", "secret", "JO46"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error quotes the code: %v", err)
				}
			}
		})
	}
	// The detail of a damaged code is lpa's.
	if _, err := ActivationCode("LPA:1$smdp example.com$ABC"); !errors.Is(err, lpa.ErrBadActivationCode) {
		t.Errorf("err = %v, want it to wrap lpa.ErrBadActivationCode", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(pngOf(f, matrix(f, codes[0], 0, 4)))
	f.Add(jpegOf(f, matrix(f, codes[1], 120, 2), 60))
	f.Add(hugePNG(100000, 100000))
	f.Add(hugePNG(64, 64))
	f.Add([]byte("GIF89a"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		text, err := Decode(bytes.NewReader(data))
		if err == nil {
			if text == "" {
				t.Fatal("no error and no text")
			}
			return
		}
		if !errors.Is(err, ErrNotImage) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrNoQRCode) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

func FuzzActivationCode(f *testing.F) {
	for _, c := range codes {
		f.Add(c)
	}
	for _, s := range []string{"", "1$a$b", "lpa:1$a$b$$1", "LPA:1$[::1]:1$x$1.2", " LPA:1$a.b$c\n", "WIFI:", "LPA:1$$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ac, err := ActivationCode(s)
		if err != nil {
			var ce *CodeError
			if !errors.As(err, &ce) || ac != "" {
				t.Fatalf("ActivationCode(%q) = %q, %v", s, ac, err)
			}
			return
		}
		p, err := lpa.ParseActivationCode(ac)
		if err != nil || p.ConfirmationCodeRequired || strings.HasPrefix(strings.ToUpper(ac), "LPA:") {
			t.Fatalf("ActivationCode(%q) = %q, which parses as %+v, %v", s, ac, p, err)
		}
		if again, err := ActivationCode(ac); err != nil || again != ac {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, ac, again, err)
		}
		if again, err := ActivationCode("LPA:" + ac); err != nil || again != ac {
			t.Fatalf("with the prefix: %q -> %q, %v", ac, again, err)
		}
	})
}
