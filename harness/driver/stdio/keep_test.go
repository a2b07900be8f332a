package stdio

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/stdio/stdiotest"
)

// KeepStderr keeps what a healthy driver wrote on stderr, for the report;
// without it nothing is kept beyond a failure's evidence.
func TestKeptStderrOfAHealthyDriver(t *testing.T) {
	var ev events
	p := startFake(t, &ev, []Option{KeepStderr(64 << 10)})
	closeNow(t, p)
	text, total, ok := p.KeptStderr()
	if !ok || !strings.Contains(text, "fake driver good starting") || total != int64(len(text)) {
		t.Errorf("kept %q (%d bytes written, ok %v)", text, total, ok)
	}
	q := startFake(t, &ev, nil)
	closeNow(t, q)
	if text, _, ok := q.KeptStderr(); ok || text != "" {
		t.Errorf("kept %q without KeepStderr", text)
	}
}

// The kept tail is cut at its size, and says how much was written; the
// evidence of a failure keeps its own size, whatever is kept.
func TestKeptStderrIsBoundedAndEvidenceUnchanged(t *testing.T) {
	var ev events
	p := startFake(t, &ev, []Option{KeepStderr(12), StderrTail(4 << 10)}, "-mode", stdiotest.Crash)
	_, err := do(t, p, 1, driver.OpConnect, 5*time.Second)
	wantDriverErr(t, err, "fake driver crash starting", "panic: fake crash on op 1")
	closeNow(t, p)
	text, total, ok := p.KeptStderr()
	if !ok || len(text) > 12 || total <= 12 || !strings.HasSuffix(text, "main.main()\n") {
		t.Errorf("kept %q of %d bytes (ok %v): want the last 12", text, total, ok)
	}
}

// A multi-session process's stderr is the same for every client it hosts.
func TestKeptStderrOfAMultiSessionProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b := driver.NewBatch(2)
	f := Factory(fake("-sessions", "2"), KeepStderr(1<<10))
	v0, err := f(driver.WithSlot(ctx, b, 0), func(driver.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	v1, err := v0.(driver.Host).Open(driver.WithSlot(ctx, b, 1), func(driver.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []driver.Driver{v1, v0} {
		if err := d.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	type keeper interface {
		PID() int
		KeptStderr() (string, int64, bool)
	}
	k0, k1 := v0.(keeper), v1.(keeper)
	t0, _, ok0 := k0.KeptStderr()
	t1, _, ok1 := k1.KeptStderr()
	if !ok0 || !ok1 || t0 != t1 || k0.PID() != k1.PID() || !strings.Contains(t0, "starting") {
		t.Errorf("client 0 kept %q (pid %d), client 1 %q (pid %d)", t0, k0.PID(), t1, k1.PID())
	}
	assertGone(t, k0.PID())
}

// A cut tail starts at a character, not inside one.
func TestKeptStderrStartsAtACharacter(t *testing.T) {
	p := &Proc{cfg: config{keep: 5, stderrSize: 5}, tail: newRing(5)}
	_, _ = p.tail.Write([]byte("ab€cde")) // € is 3 bytes: the last 5 bytes begin inside it
	text, total, ok := p.KeptStderr()
	if !ok || text != "cde" || total != 8 {
		t.Errorf("kept %q of %d: want \"cde\" of 8", text, total)
	}
	q := &Proc{cfg: config{keep: 5, stderrSize: 5}, tail: newRing(5)}
	_, _ = q.tail.Write([]byte("a€cd")) // the last 5 bytes begin with €
	if text, _, _ := q.KeptStderr(); text != "€cd" {
		t.Errorf("kept %q: want \"€cd\"", text)
	}
}

func closeNow(t *testing.T, p *Proc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.Close(ctx)
}
