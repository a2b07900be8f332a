package topology

import (
	"strconv"
	"strings"
	"sync"

	"github.com/faultline/faultline/harness/history"
)

// renumber keeps a server's connection ids unique across its restarts. A
// fake server numbers its connections from 1 ("s1#1", "s1#2", …) and a
// restarted one (a fresh process, or a fresh server on the same port) starts
// again at 1; the history must not see two different connections as one. So
// every server's events pass through a renumber: after rebase, the new
// incarnation's "s1#n" is recorded as "s1#(n+k)" where k is the highest
// number the run has seen from that server so far.
type renumber struct {
	rec history.Recorder

	mu     sync.Mutex
	offset int64
	max    int64
}

func newRenumber(rec history.Recorder) *renumber { return &renumber{rec: rec} }

// Record rewrites the connection id and passes the event on.
func (r *renumber) Record(e history.Event) {
	if e.Conn != "" {
		if i := strings.LastIndexByte(e.Conn, '#'); i >= 0 {
			if n, err := strconv.ParseInt(e.Conn[i+1:], 10, 64); err == nil {
				r.mu.Lock()
				n += r.offset
				if n > r.max {
					r.max = n
				}
				r.mu.Unlock()
				e.Conn = e.Conn[:i+1] + strconv.FormatInt(n, 10)
			}
		}
	}
	r.rec.Record(e)
}

// rebase starts a new incarnation: its numbers follow every number seen.
func (r *renumber) rebase() {
	r.mu.Lock()
	r.offset = r.max
	r.mu.Unlock()
}
