package reports

import (
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestHTMLRendersInHeadlessChromium opens index.html in headless Chromium
// (when one is installed: Debian's package `chromium`) and checks the
// screenshot for the lanes' colours: a client's active state, a server's
// live session and a link's cut. FAULTLINE_SCREENSHOT=path keeps the PNG.
func TestHTMLRendersInHeadlessChromium(t *testing.T) {
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
	r := fixture()
	r.Scenarios, r.Results = r.Scenarios[:1], r.Results[:3] // one scenario: its timeline is on the first screen
	page, err := r.WriteHTML(dir)
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "shot.png")
	if keep := os.Getenv("FAULTLINE_SCREENSHOT"); keep != "" {
		shot = keep
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

func near(v uint32, want uint8) bool {
	d := int(v>>8) - int(want)
	return d >= -3 && d <= 3
}
