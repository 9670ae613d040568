package assets

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
)

// AppID is the application ID: Fyne's app.NewWithID, FyneApp.toml, the
// .desktop and metainfo file names under packaging/linux and the icon names.
const AppID = "io.github.mobileplans.MobilePlans"

// IconSizes are the sizes (in pixels, square) of the hicolor PNGs.
var IconSizes = []int{16, 32, 48, 64, 128, 256, 512}

//go:embed icon.png
var icon []byte

//go:embed icons
var icons embed.FS

// Icon is the app icon, a 512x512 PNG. The slice is shared: do not modify it.
func Icon() []byte { return icon }

// IconPNG is the hicolor PNG of the icon at size x size pixels, for one of
// IconSizes.
func IconPNG(size int) ([]byte, error) {
	if !slices.Contains(IconSizes, size) {
		return nil, fmt.Errorf("assets: no %dx%d icon (sizes %v)", size, size, IconSizes)
	}
	return fs.ReadFile(icons, HicolorPath(size))
}

// IconSVG is the scalable icon.
func IconSVG() []byte {
	b, err := fs.ReadFile(icons, "icons/hicolor/scalable/apps/"+AppID+".svg")
	if err != nil {
		panic(err) // embedded at build time
	}
	return b
}

// HicolorPath is the path of the size x size PNG in Icons,
// "icons/hicolor/NxN/apps/<AppID>.png" (the same below share/ once installed).
func HicolorPath(size int) string {
	return fmt.Sprintf("icons/hicolor/%dx%d/apps/%s.png", size, size, AppID)
}

// Icons is the embedded hicolor tree (icons/hicolor/...), laid out as it is
// installed under share/.
func Icons() fs.FS { return icons }
