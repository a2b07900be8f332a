package reports

import (
	"context"
	"encoding/json"
	"html"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHTMLRendersInHeadlessChromium opens a scenario's page in headless
// Chromium and checks the screenshot for the lanes' colours: a client's
// active state, a server's live session and a link's cut (hatched: its base
// colour still fills most of the span).
func TestHTMLRendersInHeadlessChromium(t *testing.T) {
	r := fixture()
	img := screenshot(t, r, "pages/recovers.html", 1200, 900)
	for name, c := range map[string][3]uint8{
		"client CONNECTED_ACTIVE (st-active)": {0x81, 0xc7, 0x84},
		"server live session (ss-live)":       {0x64, 0xb5, 0xf6},
		"link cut (ft-cut)":                   {0xef, 0x53, 0x50},
	} {
		if n := countColour(img, c); n < 1000 { // the legend's swatch has 500
			t.Errorf("%s: %d pixels of #%02x%02x%02x in the screenshot, want a lane's worth", name, n, c[0], c[1], c[2])
		}
	}
}

// TestWindowsInHeadlessChromium: a check that measured two windows at
// different intervals shows two bars, each over its own interval (the
// window's colour over the page's white, seen between the lanes).
func TestWindowsInHeadlessChromium(t *testing.T) {
	sc, res := spanned()
	// No mark: the check's dashed line would stand over the end of the
	// 600–651 ms window, and hide the columns this test reads.
	res[0].AtMS = 0
	r := fixture()
	r.Scenarios, r.Results = []Scenario{sc}, res
	img := screenshot(t, r, "pages/recovers.html", 1200, 900)
	tl := buildTimeline(sc, res)
	// #7e57c2 at opacity .12 over white.
	over := [3]uint8{240, 235, 248}
	b := img.Bounds()
	// The timeline's rows only: the legend below has a swatch of the colour.
	top := -1
	for y := b.Min.Y; y < b.Max.Y && top < 0; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if nearColour(img, x, y, over) {
				top = y
				break
			}
		}
	}
	bottom := top + int(tl.H)
	var runs [][2]int // runs of columns holding the colour, in page px
	for x := b.Min.X; x < b.Max.X; x++ {
		n := 0
		for y := max(top, 0); y < min(bottom, b.Max.Y); y++ {
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
	const margin = 20 // the body's margin: the SVG's x 0 is page x 20
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

// TestPagesLayOutAt800px measures the pages of a whole suite (every
// requirement, 61 scenarios) as Chromium lays them out in a window 800 px
// wide: nothing wider than the window (the matrix and the timeline scroll in
// their own boxes, the matrix's header and scenario column sticky), and no
// text in an SVG smaller than 11 px.
func TestPagesLayOutAt800px(t *testing.T) {
	r := bigReport(60)
	index := measure(t, r, "index.html", 800)
	if index["docWidth"] > 800 {
		t.Errorf("index.html is %v px wide in an 800 px window: something overflows the page", index["docWidth"])
	}
	if index["mxScroll"] <= index["mxClient"] {
		t.Errorf("the matrix (%v px of %v) should scroll in its own box at 800 px", index["mxScroll"], index["mxClient"])
	}
	if index["stickyHead"] != 1 || index["stickyCol"] != 1 {
		t.Errorf("the matrix's header row and scenario column should be sticky: %v", index)
	}
	if index["rows"] != float64(len(r.Scenarios)) {
		t.Errorf("%v matrix rows, want one per scenario (%d)", index["rows"], len(r.Scenarios))
	}
	page := measure(t, r, "pages/crowd-thousand.html", 800)
	if page["docWidth"] > 800 {
		t.Errorf("a scenario page is %v px wide in an 800 px window", page["docWidth"])
	}
	if page["minSVGFont"] < 11 {
		t.Errorf("SVG text of %v px on a scenario page: too small to read at 100 %%", page["minSVGFont"])
	}
}

// measureJS reports the layout numbers TestPagesLayOutAt800px checks, into
// the page's title (read back from --dump-dom). The pages have no script:
// the test adds this one to a copy.
const measureJS = `<script>
const mx = document.querySelector(".mx"), th = document.querySelector("table.matrix thead th:nth-child(2)"),
      sc = document.querySelector("table.matrix tbody th.sc");
let minFont = 1e9;
for (const el of document.querySelectorAll("svg text")) minFont = Math.min(minFont, parseFloat(getComputedStyle(el).fontSize));
document.title = "M" + JSON.stringify({docWidth: document.documentElement.scrollWidth,
  mxScroll: mx ? mx.scrollWidth : 0, mxClient: mx ? mx.clientWidth : 0,
  stickyHead: th && getComputedStyle(th).position == "sticky" ? 1 : 0,
  stickyCol: sc && getComputedStyle(sc).position == "sticky" ? 1 : 0,
  rows: document.querySelectorAll("table.matrix tbody tr").length, minSVGFont: minFont});
</script>`

var measuredRe = regexp.MustCompile(`<title>M(\{.*?\})</title>`)

func measure(t *testing.T, r *Report, rel string, width int) map[string]float64 {
	t.Helper()
	bin := chromium(t)
	dir := t.TempDir()
	if _, err := r.WriteHTML(dir); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, filepath.FromSlash(rel))
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	probe := page + ".measure.html"
	if err := os.WriteFile(probe, []byte(strings.Replace(string(b), "</body>", measureJS+"</body>", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := runChromium(t, bin, dir, width, 900, "--dump-dom", "file://"+probe)
	m := measuredRe.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no measurements in the dumped page of %s", rel)
	}
	var got map[string]float64
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &got); err != nil {
		t.Fatalf("%s: %v", m[1], err)
	}
	t.Logf("%s at %d px: %v", rel, width, got)
	return got
}

// screenshot writes r's pages and shoots rel in headless Chromium (when one
// is installed: Debian's package `chromium`); FAULTLINE_SCREENSHOT=dir keeps
// the PNGs there.
func screenshot(t *testing.T, r *Report, rel string, width, height int) image.Image {
	t.Helper()
	bin := chromium(t)
	dir := t.TempDir()
	if _, err := r.WriteHTML(dir); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "shot.png")
	if keep := os.Getenv("FAULTLINE_SCREENSHOT"); keep != "" {
		shot = filepath.Join(keep, t.Name()+".png")
	}
	runChromium(t, bin, dir, width, height, "--screenshot="+shot, "file://"+filepath.Join(dir, filepath.FromSlash(rel)))
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

func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium here (apt-get install -y chromium)")
	return ""
}

// runChromium runs headless Chromium on a page, within a deadline, and
// returns its stdout.
func runChromium(t *testing.T, bin, dir string, width, height int, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--window-size=" + strconv.Itoa(width) + "," + strconv.Itoa(height)}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.WaitDelay = 5 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return out
}

func countColour(img image.Image, c [3]uint8) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if nearColour(img, x, y, c) {
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
