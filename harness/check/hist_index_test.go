package check

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// The indexes (hist_index.go, busy_index.go, contract, newSessionDuring)
// must answer exactly as the whole-history scans they replace, on
// histories in time order or not: each is compared with that scan, kept
// here, over random histories and questions.

// scanContract is contract as a scan of the history.
func scanContract(h history.History, c int, t time.Duration) *Contract {
	var out *Contract
	for _, e := range h {
		if e.T > t {
			break
		}
		if e.Kind == history.KindReply && e.Client == c && e.Op == driver.OpConnect {
			if k, ok := parseContract(e); ok {
				out = k
			}
		}
	}
	return out
}

// scanNewSession is newSessionDuring as a scan of the history.
func scanNewSession(v *view, from, to time.Duration, before, after string) int {
	for i, e := range v.h {
		if e.Kind != history.KindSessionCreate || e.T <= from || e.T > to {
			continue
		}
		if e.Session == after || e.Session == before || (v.nClients == 1 && v.cServers[e.Server]) {
			return i
		}
	}
	return -1
}

// scanClash is busyIndex.clash as a scan of the intervals.
func scanClash(busy []interval, c int, from, upTo time.Duration) (interval, bool) {
	for _, b := range busy {
		if b.client != c && b.from <= upTo && b.to >= from {
			return b, true
		}
	}
	return interval{}, false
}

// randHistory: connect replies (some with a contract, one unparsable),
// session creates on s1..s3 and noise, for 3 clients, stamped 0..99ms;
// sorted by time or not.
func randHistory(r *rand.Rand, n int, sorted bool) history.History {
	var s story
	for i := range n {
		ms := float64(r.Intn(100))
		if sorted {
			ms = float64(i * 100 / n)
		}
		cl := fmt.Sprintf("client=%d", r.Intn(3))
		switch r.Intn(5) {
		case 0:
			s.add(ev(ms, history.KindReply, cl, "op=connect", "ok=true"))
		case 1:
			s.add(ev(ms, history.KindReply, cl, "op=connect", "ok=true",
				fmt.Sprintf(`contract={"failover":{"value":"v%d","cite":"x"}}`, i)))
		case 2:
			s.add(ev(ms, history.KindReply, cl, "op=connect", "contract={not json"))
		case 3:
			s.add(ev(ms, history.KindSessionCreate, fmt.Sprintf("server=s%d", 1+r.Intn(3)), fmt.Sprintf("session=S%d", r.Intn(4))))
		default:
			s.add(ev(ms, history.KindState, cl, "to="+cA))
		}
	}
	return s.evs
}

func TestIndexesAnswerAsTheScans(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	sess := []string{"", "S0", "S1", "S2", "S3"}
	for round := range 200 {
		h := randHistory(r, 1+r.Intn(60), round%2 == 0)
		for _, nc := range []int{1, 3} {
			sc := scen(func(sc *scenario.Scenario) { sc.Clients = nc; sc.Client.Servers = []string{"s1", "s2"} })
			v := newView(h, sc)
			for range 30 {
				c, t1, t2 := r.Intn(3), msd(float64(r.Intn(110)-5)), msd(float64(r.Intn(110)-5))
				if got, want := v.client().contract(c, t1), scanContract(h, c, t1); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("round %d: contract(%d, %s) = %v, the scan %v", round, c, t1, got, want)
				}
				b, a := sess[r.Intn(len(sess))], sess[r.Intn(len(sess))]
				if got, want := newSessionDuring(v, t1, t2, b, a), scanNewSession(v, t1, t2, b, a); got != want {
					t.Fatalf("round %d (%d clients): newSessionDuring(%s, %s, %q, %q) = %d, the scan %d", round, nc, t1, t2, b, a, got, want)
				}
			}
		}
	}
}

func TestBusyIndexAnswersAsTheScan(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	for round := range 300 {
		busy := make([]interval, r.Intn(40))
		for i := range busy {
			from := msd(float64(i * 3 / 2)) // sorted by start, as busyIntervals leaves them; ties too
			busy[i] = interval{client: r.Intn(4), from: from, to: from + msd(float64(r.Intn(30))), what: fmt.Sprint(i)}
		}
		x := newBusyIndex(busy)
		for range 40 {
			c, from := r.Intn(4), msd(float64(r.Intn(80)-5))
			upTo := from + msd(float64(r.Intn(30)-5))
			got, ok := x.clash(c, from, upTo)
			want, wok := scanClash(busy, c, from, upTo)
			if ok != wok || got != want {
				t.Fatalf("round %d: clash(%d, %s, %s) = %v %v, the scan %v %v", round, c, from, upTo, got, ok, want, wok)
			}
		}
	}
}

// A wrong index is caught: the contract of a reply after t, or a create
// outside the window, is not the scan's answer.
func TestIndexComparisonCatchesADifference(t *testing.T) {
	h := history.History{
		ev(1, history.KindReply, "client=0", "op=connect", `contract={"failover":{"value":"next","cite":"x"}}`),
		ev(5, history.KindReply, "client=0", "op=connect", `contract={"failover":{"value":"top","cite":"y"}}`),
		ev(6, history.KindSessionCreate, "server=s1", "session=A"),
	}
	v := newView(h, scen())
	if got := v.client().contract(0, msd(4)); got.Value(termFailover) != "next" {
		t.Errorf("contract at 4ms = %v, want the reply at 1ms's (next)", got.Value(termFailover))
	}
	if got := v.client().contract(0, msd(0.5)); got != nil {
		t.Errorf("contract before any reply = %v, want none", got)
	}
	if got := newSessionDuring(v, msd(6), msd(9), "A", "A"); got != -1 {
		t.Errorf("a create at the window's (excluded) start counted: %d", got)
	}
	if got := newSessionDuring(v, msd(5), msd(6), "B", "B"); got != 2 {
		t.Errorf("one client: a create on its server in the window missed: %d", got)
	}
	x := newBusyIndex([]interval{{client: 0, from: 0, to: msd(10)}, {client: 1, from: msd(2), to: msd(3)}})
	if b, ok := x.clash(0, msd(2), msd(4)); !ok || b.client != 1 {
		t.Errorf("clash for client 0 = %v %v, want client 1's interval", b, ok)
	}
	if _, ok := x.clash(1, msd(4), msd(5)); !ok {
		t.Errorf("client 0's interval overlaps [4ms, 5ms]: want a clash")
	}
	if b, ok := x.clash(1, msd(11), msd(12)); ok {
		t.Errorf("nothing overlaps [11ms, 12ms], got %v", b)
	}
}
