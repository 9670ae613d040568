package assets

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func decode(t *testing.T, name string, data []byte) image.Image {
	t.Helper()
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		t.Fatalf("%s: bounds %v, header %dx%d", name, b, cfg.Width, cfg.Height)
	}
	return img
}

// checkIcon checks the size and that the image is neither blank nor a plain
// square: some pixels opaque, some transparent (the corners), more than one colour.
func checkIcon(t *testing.T, name string, img image.Image, size int) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() != size || b.Dy() != size {
		t.Errorf("%s: %dx%d, want %dx%d", name, b.Dx(), b.Dy(), size, size)
	}
	var opaque, transparent int
	colours := map[[3]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			switch a {
			case 0xffff:
				opaque++
				colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			case 0:
				transparent++
			}
		}
	}
	if opaque == 0 || transparent == 0 {
		t.Errorf("%s: %d opaque and %d transparent pixels, want some of each", name, opaque, transparent)
	}
	if opaque < size*size/2 {
		t.Errorf("%s: only %d of %d pixels opaque", name, opaque, size*size)
	}
	if len(colours) < 2 {
		t.Errorf("%s: %d opaque colours, want a design", name, len(colours))
	}
	if _, _, _, a := img.At(b.Min.X, b.Min.Y).RGBA(); a != 0 {
		t.Errorf("%s: top-left corner pixel alpha %#x, want transparent (rounded corner)", name, a)
	}
	if _, _, _, a := img.At(b.Min.X+size/2, b.Min.Y+size/2).RGBA(); a != 0xffff {
		t.Errorf("%s: centre pixel alpha %#x, want opaque", name, a)
	}
}

func TestIcon(t *testing.T) {
	disk, err := os.ReadFile("icon.png")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(Icon(), disk) {
		t.Error("embedded icon differs from icon.png on disk")
	}
	checkIcon(t, "icon.png", decode(t, "icon.png", Icon()), 512)
	big, err := IconPNG(512)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(big, disk) {
		t.Error("icon.png differs from the 512x512 hicolor icon")
	}
}

func TestHicolorIcons(t *testing.T) {
	for _, size := range IconSizes {
		path := HicolorPath(size)
		want := fmt.Sprintf("icons/hicolor/%dx%d/apps/%s.png", size, size, AppID)
		if path != want {
			t.Fatalf("HicolorPath(%d) = %q, want %q", size, path, want)
		}
		disk, err := os.ReadFile(filepath.FromSlash(path))
		if err != nil {
			t.Fatal(err)
		}
		embedded, err := IconPNG(size)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(embedded, disk) {
			t.Errorf("embedded %s differs from the file on disk", path)
		}
		checkIcon(t, path, decode(t, path, disk), size)
	}
	if _, err := IconPNG(17); err == nil {
		t.Error("IconPNG(17) did not fail")
	}
	// Nothing in the tree but the declared PNGs and the SVG.
	entries, err := filepath.Glob("icons/hicolor/*/apps/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(IconSizes)+1 {
		t.Errorf("icons/hicolor holds %d files, want %d: %v", len(entries), len(IconSizes)+1, entries)
	}
}

func TestIconSVG(t *testing.T) {
	disk, err := os.ReadFile(filepath.FromSlash("icons/hicolor/scalable/apps/" + AppID + ".svg"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(IconSVG(), disk) {
		t.Error("embedded SVG differs from the file on disk")
	}
	var root struct {
		XMLName xml.Name
		ViewBox string `xml:"viewBox,attr"`
	}
	if err := xml.Unmarshal(disk, &root); err != nil {
		t.Fatalf("SVG: %v", err)
	}
	if root.XMLName.Space != "http://www.w3.org/2000/svg" || root.XMLName.Local != "svg" || root.ViewBox != "0 0 512 512" {
		t.Errorf("SVG root %v viewBox %q", root.XMLName, root.ViewBox)
	}
	d := xml.NewDecoder(bytes.NewReader(disk))
	for {
		if _, err := d.Token(); err != nil {
			if err != io.EOF {
				t.Errorf("SVG: %v", err)
			}
			break
		}
	}
}

// TestGenerator redraws the icons with gen_icon.go and compares the pixels
// with the committed files, so these stay reproducible from the generator.
func TestGenerator(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go run")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			t.Skip("no go tool")
		}
	}
	dir := t.TempDir()
	cmd := exec.Command(goTool, "run", "gen_icon.go", "-o", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen_icon.go: %v\n%s", err, out)
	}
	files := []string{"icon.png", "icons/hicolor/scalable/apps/" + AppID + ".svg"}
	for _, size := range IconSizes {
		files = append(files, HicolorPath(size))
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.FromSlash(f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".svg") {
			if !bytes.Equal(got, want) {
				t.Errorf("%s is not what gen_icon.go writes; run go run assets/gen_icon.go", f)
			}
			continue
		}
		g, w := decode(t, f, got), decode(t, f, want)
		if !samePixels(g, w) {
			t.Errorf("%s is not what gen_icon.go draws; run go run assets/gen_icon.go", f)
		}
	}
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

// TestAppIDEverywhere checks that FyneApp.toml and the Linux packaging files
// use AppID.
func TestAppIDEverywhere(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "FyneApp.toml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var id, icon string
	section := ""
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if strings.HasPrefix(line, "[") {
			section = line
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section != "[Details]" {
			continue
		}
		switch strings.TrimSpace(k) {
		case "ID":
			id = strings.Trim(strings.TrimSpace(v), `"`)
		case "Icon":
			icon = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	if id != AppID {
		t.Errorf("FyneApp.toml [Details] ID = %q, want %q", id, AppID)
	}
	if icon != "assets/icon.png" {
		t.Errorf("FyneApp.toml [Details] Icon = %q, want assets/icon.png", icon)
	}

	desktop, err := os.ReadFile(filepath.Join("..", "packaging", "linux", AppID+".desktop"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Icon=" + AppID + "\n", "Exec=mobileplans\n", "Type=Application\n"} {
		if !bytes.Contains(desktop, []byte(want)) {
			t.Errorf("%s.desktop lacks %q", AppID, strings.TrimSpace(want))
		}
	}

	meta, err := os.ReadFile(filepath.Join("..", "packaging", "linux", AppID+".metainfo.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var comp struct {
		ID       string `xml:"id"`
		Launch   string `xml:"launchable"`
		Provides struct {
			Binaries []string `xml:"binary"`
		} `xml:"provides"`
	}
	if err := xml.Unmarshal(meta, &comp); err != nil {
		t.Fatalf("metainfo: %v", err)
	}
	if comp.ID != AppID || comp.Launch != AppID+".desktop" {
		t.Errorf("metainfo id %q launchable %q, want %q and %q", comp.ID, comp.Launch, AppID, AppID+".desktop")
	}
}
