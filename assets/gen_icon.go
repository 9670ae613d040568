//go:build ignore

// Command gen_icon draws the Mobile Plans app icon: a rounded blue square
// holding a white SIM card whose chip is replaced by a signal mark (a dot and
// two arcs). It writes the same design as
//
//	icon.png                                         512x512
//	icons/hicolor/NxN/apps/<ID>.png                  N in 16 32 48 64 128 256 512
//	icons/hicolor/scalable/apps/<ID>.svg
//
// under the output directory. The PNGs are rasterised here from signed
// distance functions (one analytic coverage sample per pixel on a 4x4
// sub-pixel grid), so the output depends on nothing but this file:
//
//	go run assets/gen_icon.go            # writes into assets/
//	go run assets/gen_icon.go -o DIR     # writes into DIR
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// appID must match FyneApp.toml, the .desktop file and the metainfo.
const appID = "io.github.mobileplans.MobilePlans"

// sizes of the hicolor PNGs.
var sizes = []int{16, 32, 48, 64, 128, 256, 512}

// The design lives on a 512x512 canvas; every length below is in its units.
const canvas = 512.0

// Colours.
var (
	bgTop    = rgb(0x3B, 0x8C, 0xFF) // background gradient, top
	bgBottom = rgb(0x1A, 0x4F, 0xD6) // background gradient, bottom
	card     = rgb(0xFF, 0xFF, 0xFF) // the SIM card
	mark     = rgb(0x1A, 0x5C, 0xE6) // the signal mark on the card
	shadow   = color.NRGBA{0x0B, 0x2A, 0x80, 0x40}
)

// Geometry.
const (
	bgInset  = 16.0  // transparent margin around the rounded square
	bgRadius = 104.0 // its corner radius

	cardX0, cardY0 = 140.0, 88.0 // SIM card bounding box
	cardX1, cardY1 = 372.0, 424.0
	cardCut        = 80.0 // the clipped top-right corner (legs of the 45° cut)
	cardRadius     = 30.0 // every corner of the card, the cut's included

	shadowDY   = 10.0 // card drop shadow: offset and blur
	shadowBlur = 18.0

	markCX, markCY = 256.0, 304.0 // signal mark: centre of the dot and arcs
	dotR           = 22.0
	arcWidth       = 24.0
	arcHalfAngle   = 45.0 // degrees either side of straight up
)

var arcRadii = []float64{58, 102}

func rgb(r, g, b uint8) color.NRGBA { return color.NRGBA{r, g, b, 0xFF} }

type vec struct{ x, y float64 }

func (a vec) sub(b vec) vec       { return vec{a.x - b.x, a.y - b.y} }
func (a vec) add(b vec) vec       { return vec{a.x + b.x, a.y + b.y} }
func (a vec) mul(s float64) vec   { return vec{a.x * s, a.y * s} }
func (a vec) dot(b vec) float64   { return a.x*b.x + a.y*b.y }
func (a vec) cross(b vec) float64 { return a.x*b.y - a.y*b.x }
func (a vec) len() float64        { return math.Hypot(a.x, a.y) }
func (a vec) unit() vec           { return a.mul(1 / a.len()) }

// sdf is a signed distance (negative inside) in canvas units.
type sdf func(p vec) float64

func roundRect(x0, y0, x1, y1, r float64) sdf {
	c := vec{(x0 + x1) / 2, (y0 + y1) / 2}
	h := vec{(x1-x0)/2 - r, (y1-y0)/2 - r}
	return func(p vec) float64 {
		q := vec{math.Abs(p.x-c.x) - h.x, math.Abs(p.y-c.y) - h.y}
		out := vec{math.Max(q.x, 0), math.Max(q.y, 0)}.len()
		return out + math.Min(math.Max(q.x, q.y), 0) - r
	}
}

func circle(c vec, r float64) sdf {
	return func(p vec) float64 { return p.sub(c).len() - r }
}

// arc is a stroke of width w along the circle (c, r) between the angles
// a0 < a1 (radians, y down, 0 = +x), with round caps.
func arc(c vec, r, a0, a1, w float64) sdf {
	e0 := c.add(vec{math.Cos(a0), math.Sin(a0)}.mul(r))
	e1 := c.add(vec{math.Cos(a1), math.Sin(a1)}.mul(r))
	return func(p vec) float64 {
		d := p.sub(c)
		a := math.Atan2(d.y, d.x)
		for a < a0-math.Pi {
			a += 2 * math.Pi
		}
		for a > a0+math.Pi {
			a -= 2 * math.Pi
		}
		if a >= a0 && a <= a1 {
			return math.Abs(d.len()-r) - w/2
		}
		return math.Min(p.sub(e0).len(), p.sub(e1).len()) - w/2
	}
}

// convexPolygon is the exact distance to a convex polygon (vertices in order).
func convexPolygon(v []vec) sdf {
	return func(p vec) float64 {
		inside := true
		best := math.Inf(1)
		n := len(v)
		for i := range n {
			a, b := v[i], v[(i+1)%n]
			e, w := b.sub(a), p.sub(a)
			t := math.Max(0, math.Min(1, w.dot(e)/e.dot(e)))
			best = math.Min(best, w.sub(e.mul(t)).len())
			if e.cross(w) < 0 { // p is on the outer side of this edge (clockwise on screen)
				inside = false
			}
		}
		if inside {
			return -best
		}
		return best
	}
}

// cardOutline is the SIM card's polygon before rounding, clockwise on screen.
func cardOutline() []vec {
	return []vec{
		{cardX0, cardY0},
		{cardX1 - cardCut, cardY0},
		{cardX1, cardY0 + cardCut},
		{cardX1, cardY1},
		{cardX0, cardY1},
	}
}

// inset moves every edge of a convex polygon (clockwise on screen) inwards by d.
func inset(v []vec, d float64) []vec {
	n := len(v)
	type line struct{ p, dir vec }
	lines := make([]line, n)
	for i := range n {
		a, b := v[i], v[(i+1)%n]
		dir := b.sub(a).unit()
		normal := vec{-dir.y, dir.x} // inwards for clockwise-on-screen order
		lines[i] = line{a.add(normal.mul(d)), dir}
	}
	out := make([]vec, n)
	for i := range n {
		l0, l1 := lines[(i+n-1)%n], lines[i]
		t := l1.p.sub(l0.p).cross(l1.dir) / l0.dir.cross(l1.dir)
		out[i] = l0.p.add(l0.dir.mul(t))
	}
	return out
}

// roundedPolygon rounds every corner of a convex polygon with radius r.
func roundedPolygon(v []vec, r float64) sdf {
	core := convexPolygon(inset(v, r))
	return func(p vec) float64 { return core(p) - r }
}

// layer is a shape filled with a colour (which may vary over the canvas).
type layer struct {
	shape sdf
	blur  float64 // extra edge softness in canvas units (shadows)
	paint func(p vec) color.NRGBA
}

func solid(c color.NRGBA) func(vec) color.NRGBA { return func(vec) color.NRGBA { return c } }

func vertical(top, bottom color.NRGBA, y0, y1 float64) func(vec) color.NRGBA {
	return func(p vec) color.NRGBA {
		t := math.Max(0, math.Min(1, (p.y-y0)/(y1-y0)))
		mix := func(a, b uint8) uint8 { return uint8(math.Round(float64(a) + (float64(b)-float64(a))*t)) }
		return color.NRGBA{mix(top.R, bottom.R), mix(top.G, bottom.G), mix(top.B, bottom.B), mix(top.A, bottom.A)}
	}
}

func design() []layer {
	up := -math.Pi / 2
	half := arcHalfAngle * math.Pi / 180
	c := vec{markCX, markCY}
	cardShape := roundedPolygon(cardOutline(), cardRadius)
	ls := []layer{
		{shape: roundRect(bgInset, bgInset, canvas-bgInset, canvas-bgInset, bgRadius),
			paint: vertical(bgTop, bgBottom, bgInset, canvas-bgInset)},
		{shape: func(p vec) float64 { return cardShape(p.sub(vec{0, shadowDY})) },
			blur: shadowBlur, paint: solid(shadow)},
		{shape: cardShape, paint: solid(card)},
		{shape: circle(c, dotR), paint: solid(mark)},
	}
	for _, r := range arcRadii {
		ls = append(ls, layer{shape: arc(c, r, up-half, up+half, arcWidth), paint: solid(mark)})
	}
	return ls
}

// coverage of a pixel of side px (canvas units) whose sample point is at
// signed distance d from the edge.
func coverage(d, px, blur float64) float64 {
	w := px + blur
	return math.Max(0, math.Min(1, 0.5-d/w))
}

// render rasterises the design at n x n pixels.
func render(n int) *image.NRGBA {
	ls := design()
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	scale := canvas / float64(n)
	const ss = 4 // sub-pixel grid per axis
	sub := scale / ss
	rows := make(chan int)
	done := make(chan struct{})
	workers := runtime.NumCPU()
	for range workers {
		go func() {
			for y := range rows {
				for x := 0; x < n; x++ {
					var r, g, b, a float64 // premultiplied, 0..1
					for sy := 0; sy < ss; sy++ {
						for sx := 0; sx < ss; sx++ {
							p := vec{(float64(x) + (float64(sx)+0.5)/ss) * scale, (float64(y) + (float64(sy)+0.5)/ss) * scale}
							var pr, pg, pb, pa float64
							for _, l := range ls {
								cov := coverage(l.shape(p), sub, l.blur)
								if cov == 0 {
									continue
								}
								c := l.paint(p)
								ca := cov * float64(c.A) / 255
								pr = float64(c.R)/255*ca + pr*(1-ca)
								pg = float64(c.G)/255*ca + pg*(1-ca)
								pb = float64(c.B)/255*ca + pb*(1-ca)
								pa = ca + pa*(1-ca)
							}
							r, g, b, a = r+pr, g+pg, b+pb, a+pa
						}
					}
					k := float64(ss * ss)
					r, g, b, a = r/k, g/k, b/k, a/k
					i := img.PixOffset(x, y)
					if a > 0 {
						img.Pix[i+0] = uint8(math.Round(math.Min(1, r/a) * 255))
						img.Pix[i+1] = uint8(math.Round(math.Min(1, g/a) * 255))
						img.Pix[i+2] = uint8(math.Round(math.Min(1, b/a) * 255))
					}
					img.Pix[i+3] = uint8(math.Round(a * 255))
				}
			}
			done <- struct{}{}
		}()
	}
	for y := 0; y < n; y++ {
		rows <- y
	}
	close(rows)
	for range workers {
		<-done
	}
	return img
}

func hex(c color.NRGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

func num(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

// roundedPolygonPath is the SVG path of roundedPolygon(v, r): straight edges
// between the tangent points, an arc of radius r at every corner.
func roundedPolygonPath(v []vec, r float64) string {
	n := len(v)
	var b strings.Builder
	for i := range n {
		prev, cur, next := v[(i+n-1)%n], v[i], v[(i+1)%n]
		d0, d1 := prev.sub(cur).unit(), next.sub(cur).unit()
		half := math.Acos(d0.dot(d1)) / 2
		t := r / math.Tan(half) // distance from the corner to the tangent points
		p0, p1 := cur.add(d0.mul(t)), cur.add(d1.mul(t))
		if i == 0 {
			fmt.Fprintf(&b, "M%s %s", num(p0.x), num(p0.y))
		} else {
			fmt.Fprintf(&b, "L%s %s", num(p0.x), num(p0.y))
		}
		fmt.Fprintf(&b, "A%s %s 0 0 1 %s %s", num(r), num(r), num(p1.x), num(p1.y))
	}
	b.WriteString("Z")
	return b.String()
}

func svg() []byte {
	var b bytes.Buffer
	up := -math.Pi / 2
	half := arcHalfAngle * math.Pi / 180
	cardPath := roundedPolygonPath(cardOutline(), cardRadius)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512">
<title>Mobile Plans</title>
<defs>
<linearGradient id="bg" x1="0" y1="%s" x2="0" y2="%s" gradientUnits="userSpaceOnUse">
<stop offset="0" stop-color="%s"/>
<stop offset="1" stop-color="%s"/>
</linearGradient>
<filter id="shadow" x="-20%%" y="-20%%" width="140%%" height="140%%">
<feGaussianBlur stdDeviation="%s"/>
</filter>
</defs>
<rect x="%s" y="%s" width="%s" height="%s" rx="%s" fill="url(#bg)"/>
<path d="%s" transform="translate(0 %s)" fill="%s" fill-opacity="%s" filter="url(#shadow)"/>
<path d="%s" fill="%s"/>
<circle cx="%s" cy="%s" r="%s" fill="%s"/>
`,
		num(bgInset), num(canvas-bgInset), hex(bgTop), hex(bgBottom), num(shadowBlur/3),
		num(bgInset), num(bgInset), num(canvas-2*bgInset), num(canvas-2*bgInset), num(bgRadius),
		cardPath, num(shadowDY), hex(shadow), num(float64(shadow.A)/255),
		cardPath, hex(card),
		num(markCX), num(markCY), num(dotR), hex(mark))
	for _, r := range arcRadii {
		x0, y0 := markCX+r*math.Cos(up-half), markCY+r*math.Sin(up-half)
		x1, y1 := markCX+r*math.Cos(up+half), markCY+r*math.Sin(up+half)
		fmt.Fprintf(&b, `<path d="M%s %sA%s %s 0 0 1 %s %s" fill="none" stroke="%s" stroke-width="%s" stroke-linecap="round"/>
`, num(x0), num(y0), num(r), num(r), num(x1), num(y1), hex(mark), num(arcWidth))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func writePNG(path string, img image.Image) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		log.Fatal(err)
	}
	write(path, buf.Bytes())
}

func write(path string, data []byte) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println(path)
}

func main() {
	out := flag.String("o", "assets", "output directory")
	flag.Parse()
	log.SetFlags(0)
	hicolor := filepath.Join(*out, "icons", "hicolor")
	for _, n := range sizes {
		img := render(n)
		writePNG(filepath.Join(hicolor, fmt.Sprintf("%dx%d", n, n), "apps", appID+".png"), img)
		if n == 512 {
			writePNG(filepath.Join(*out, "icon.png"), img)
		}
	}
	write(filepath.Join(hicolor, "scalable", "apps", appID+".svg"), svg())
}
