package reports

import (
	"context"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestHTMLRendersInHeadlessChromium opens index.html in headless Chromium
// and checks the screenshot for the lanes' colours: a client's active
// state, a server's live session and a link's cut.
func TestHTMLRendersInHeadlessChromium(t *testing.T) {
	r := fixture()
	r.Scenarios, r.Results = r.Scenarios[:1], r.Results[:3] // one scenario: its timeline is on the first screen
	img := screenshot(t, r)
	for name, c := range map[string][3]uint8{
		"client CONNECTED_ACTIVE (st-active)": {0x81, 0xc7, 0x84},
		"server live session (ss-live)":       {0x64, 0xb5, 0xf6},
		"link cut (ft-cut)":                   {0xef, 0x53, 0x50},
	} {
		if n := countColour(img, c); n < 1000 { // the legend has 120 of each
			t.Errorf("%s: %d pixels of #%02x%02x%02x in the screenshot, want a lane's worth", name, n, c[0], c[1], c[2])
		}
	}
}

// TestWindowsInHeadlessChromium: a check that measured two windows at
// different intervals shows two bars, each over its own interval (the
// window's colour over the page's white, seen between the lanes).
func TestWindowsInHeadlessChromium(t *testing.T) {
	sc, res := spanned()
	r := fixture()
	r.Scenarios, r.Results = []Scenario{sc}, res
	img := screenshot(t, r)
	tl := buildTimeline(sc, res)
	// #7e57c2 at opacity .12 over white.
	over := [3]uint8{240, 235, 248}
	var runs [][2]int // runs of columns holding the colour, in page px
	b := img.Bounds()
	for x := b.Min.X; x < b.Max.X; x++ {
		n := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			if nearColour(img, x, y, over) {
				n++
			}
		}
		if n < 8 {
			continue
		}
		if len(runs) > 0 && runs[len(runs)-1][1] == x-1 {
			runs[len(runs)-1][1] = x
		} else {
			runs = append(runs, [2]int{x, x})
		}
	}
	if len(runs) != len(tl.Windows) {
		t.Fatalf("%d bars of the window colour at columns %v, want %d", len(runs), runs, len(tl.Windows))
	}
	const margin = 24 // the body's margin: the SVG's x 0 is page x 24
	for _, w := range tl.Windows {
		found := false
		for _, run := range runs {
			if math.Abs(float64(run[0])-(margin+w.X)) <= 2 && math.Abs(float64(run[1])-(margin+w.X+w.W)) <= 2 {
				found = true
			}
		}
		if !found {
			t.Errorf("no bar over page x %.0f–%.0f (%s); bars at %v", margin+w.X, margin+w.X+w.W, w.Tip, runs)
		}
	}
}

// screenshot writes r's page and shoots it in headless Chromium (when one is
// installed: Debian's package `chromium`); FAULTLINE_SCREENSHOT=dir keeps
// the PNGs there.
func screenshot(t *testing.T, r *Report) image.Image {
	t.Helper()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("no Chromium here (apt-get install -y chromium)")
	}
	dir := t.TempDir()
	page, err := r.WriteHTML(dir)
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "shot.png")
	if keep := os.Getenv("FAULTLINE_SCREENSHOT"); keep != "" {
		shot = filepath.Join(keep, t.Name()+".png")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=1200,900", "--screenshot="+shot, "file://"+page)
	cmd.WaitDelay = 5 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func countColour(img image.Image, c [3]uint8) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, c[0]) && near(g, c[1]) && near(bl, c[2]) {
				n++
			}
		}
	}
	return n
}

func nearColour(img image.Image, x, y int, c [3]uint8) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	return near(r, c[0]) && near(g, c[1]) && near(b, c[2])
}

func near(v uint32, want uint8) bool {
	d := int(v>>8) - int(want)
	return d >= -3 && d <= 3
}
