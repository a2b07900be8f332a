package real

import (
	"strconv"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// FuzzParseLine: any bytes mosquitto (or a client's id or topic inside its
// lines) may put in the log are parsed without a panic into a line whose
// fields fit its kind, and a log of such lines drives the tracker without a
// panic.
func FuzzParseLine(f *testing.F) {
	for _, s := range capturedLog {
		f.Add(s)
	}
	f.Add("Client  disconnected.")
	f.Add("New client connected from :1 as  (p, c, k).")
	f.Add("Sending PUBLISH to x (d0, q1, r0, m1, '', ... ( bytes))")
	f.Fuzz(func(t *testing.T, s string) {
		for _, raw := range strings.Split(s, "\n") {
			l := ParseLine(raw)
			if l.Kind < LineOther || l.Kind > LineRecvDisconnect {
				t.Fatalf("kind %d", l.Kind)
			}
			switch l.Kind {
			case LineNewConnection:
				if !validAddr(l.Addr) {
					t.Fatalf("%q: address %q", raw, l.Addr)
				}
			case LineClientConnected:
				if l.ID == "" || !validAddr(l.Addr) {
					t.Fatalf("%q: %+v", raw, l)
				}
			case LineConnack, LineAlreadyConnected, LineClose, LineRecvPublish, LineSendPublish, LineRecvAck, LineSendAck,
				LineRecvPingreq, LineRecvSubscribe, LineRecvUnsubscribe, LineRecvDisconnect:
				if l.ID == "" {
					t.Fatalf("%q: no id: %+v", raw, l)
				}
			}
			if l.QoS > 2 || l.Mid < 0 || l.Bytes < 0 {
				t.Fatalf("%q: %+v", raw, l)
			}
		}
		tr, _ := testTracker(nil)
		for _, raw := range strings.Split(s, "\n") {
			tr.handle(ParseLine(raw))
		}
		tr.killed(ReasonKilled, "killed")
		if len(tr.conns) != 0 || len(tr.byID) != 0 || len(tr.waiting) != 0 {
			t.Fatalf("connections left after killed: %d %d %d", len(tr.conns), len(tr.byID), len(tr.waiting))
		}
	})
}

// testTracker is a tracker over a history.Log, whose monitor's k-th
// message carries seqs[k-1] (no waiting: the tests give every line at once).
func testTracker(seqs []int64) (*tracker, *history.Log) {
	log := history.NewLog(history.NewClock())
	n := 0
	tr := newTracker(trackerDeps{
		name:   "m1",
		record: log.Record,
		connID: func() string {
			n++
			return "m1#" + strconv.Itoa(n)
		},
		peer: func(addr string) (peerRole, string, *endpoint) {
			if strings.HasPrefix(addr, "127.0.0.9:") {
				return peerHarness, "", nil
			}
			return peerUnknown, "", nil
		},
		monitorID: MonitorID,
		payload: func(_ string, k int) (int64, bool) {
			if k < 1 || k > len(seqs) {
				return 0, false
			}
			return seqs[k-1], true
		},
		closed: func([]string, string) string { return "" },
	})
	return tr, log
}
