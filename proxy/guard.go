package proxy

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/Shopify/toxiproxy/v2/toxics"
)

// Toxiproxy v2.12.0 leaks two goroutines per connection when a toxic closes
// its stub (reset_peer, limit_data) while the sender keeps writing: the stub
// before it blocks forever sending into the closed one, and the connection's
// reader blocks behind it. Close cannot reclaim them. The embedded backend
// therefore puts a guard toxic just before each such toxic: it passes data on
// until it has handed over enough to make the next toxic close (1 byte for
// reset_peer, `bytes` for limit_data), then drops the rest, as the closed
// toxic would, so that nothing blocks and the connection's goroutines end.
//
// The guard acts only while armed (its toxic is in place): between the two
// adds and the two removes it must pass data through untouched. A remote
// Toxiproxy keeps the leak on its side.
const guardType = "faultline_guard"

func init() { toxics.Register(guardType, new(guardToxic)) }

// guardToxic is decoded from the JSON attributes of each added guard.
type guardToxic struct {
	Key   string `json:"key"`   // arms it, in armed
	Bytes int64  `json:"bytes"` // handed over while armed, the next toxic closes
}

type guardState struct{ passed int64 }

var (
	armed    sync.Map // key → struct{}: the guarded toxic is in place
	guardSeq atomic.Uint64
)

func newGuardKey() string { return "g" + strconv.FormatUint(guardSeq.Add(1), 10) }

func isArmed(key string) bool { _, ok := armed.Load(key); return ok }

// NewState keeps the count per connection and across restarts of Pipe.
func (g *guardToxic) NewState() any { return new(guardState) }

func (g *guardToxic) Pipe(stub *toxics.ToxicStub) {
	st := stub.State.(*guardState)
	if !isArmed(g.Key) {
		// Restarted because the guarded toxic was removed before it closed:
		// what was handed over did not doom the connection.
		st.passed = 0
	}
	for {
		select {
		case <-stub.Interrupt:
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			if st.passed >= g.Bytes {
				continue // the next toxic has closed (or is closing): drop, as it would
			}
			on := isArmed(g.Key) // read before the send: armed implies the toxic received it
			stub.Output <- c
			if on {
				st.passed += int64(len(c.Data))
			}
		}
	}
}

// guardBytes says whether a toxic needs a guard, and after how many bytes.
func guardBytes(t toxic) (int64, bool) {
	switch t.Type {
	case "reset_peer":
		return 1, true
	case "limit_data":
		b, ok := t.Attributes["bytes"].(int64)
		return b, ok && b > 0
	}
	return 0, false
}
