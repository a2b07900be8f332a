package topology

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/faultline/faultline/fakeserver/control"
	"github.com/faultline/faultline/harness/history"
)

// LinkFeed follows the event stream of the `faultline serve --links`
// process that hosts a run's links, and records their link.accept and
// link.dial_fail into the run's history, stamped on arrival like the
// servers' events (their delay goes into the same accounting). The faults
// on those links are not in that stream: the harness's proxy client records
// them as it applies them.
//
// Order across streams. A link takes a client's connection, records it, and
// only then dials the server, which records its accept: the link's record
// comes first. Stamped on arrival through two streams, the server's could
// arrive first, and checkers pair a server's accepts with its link's in
// order (a link accept stamped after the server accept it belongs to is
// not paired). So a server accept that has no link accept before it yet
// waits for one (Hosted.gate): the n-th accept of a server waits until its
// link has recorded n accepts whose dial did not fail (as far as the link's
// stream has told), as every connection reaching the server through the
// link was accepted by the link first and dialled. The wait is bounded
// (awaitLink): a server accept that came some other way does not hold the
// server's stream for long.
type LinkFeed struct {
	f *control.Follower

	mu      sync.Mutex
	dialled map[string]int64 // per link, link.accept recorded so far less link.dial_fail
	wake    chan struct{}    // closed (and replaced) on every recorded accept
	stopped bool
}

// awaitLink bounds how long a server accept waits for its link's.
const awaitLink = 250 * time.Millisecond

// StartLinkFeed follows c from stream position from and records the link
// events of links (nil: of any link) into rec, adding each one's delay to
// every one of delays. When the stream ends by itself, the reason is
// recorded into rec as evidence.lost.
func StartLinkFeed(c *control.Client, from int64, links []string, rec history.Recorder, delays ...*control.Delays) *LinkFeed {
	var want map[string]bool
	if links != nil {
		want = map[string]bool{}
		for _, l := range links {
			want[l] = true
		}
	}
	lf := &LinkFeed{dialled: map[string]int64{}, wake: make(chan struct{})}
	fn := func(env control.Envelope) {
		e := env.Event
		if e.Source != history.SrcLink || e.Link == "" || want != nil && !want[e.Link] {
			return // a server's (this process hosts none in containers mode), or another run's link
		}
		for _, d := range delays {
			d.Add(env.TS)
		}
		rec.Record(e)
		switch e.Kind {
		case history.KindLinkAccept:
			lf.mu.Lock()
			lf.dialled[e.Link]++
			close(lf.wake)
			lf.wake = make(chan struct{})
			lf.mu.Unlock()
		case history.KindLinkDialFail:
			lf.mu.Lock()
			lf.dialled[e.Link]--
			lf.mu.Unlock()
		}
	}
	onEnd := func(err error) {
		rec.Record(history.Event{Source: history.SrcHarness, Kind: history.KindEvidenceLost,
			Reason: fmt.Sprintf("link event stream from %s: %v", c.URL(), err)})
	}
	lf.f = control.Follow(c, from, fn, onEnd)
	return lf
}

// Opened waits (within ctx) until the stream is open.
func (lf *LinkFeed) Opened(ctx context.Context) error { return lf.f.Opened(ctx) }

// Stop ends the feed; events still in flight are dropped.
func (lf *LinkFeed) Stop() {
	if lf != nil {
		lf.f.Stop()
		lf.mu.Lock()
		lf.stopped = true // nobody waits on a stopped feed
		close(lf.wake)
		lf.wake = make(chan struct{})
		lf.mu.Unlock()
	}
}

// await returns once link has recorded n accepts it dialled, the feed is
// stopped, or d has passed.
func (lf *LinkFeed) await(link string, n int64, d time.Duration) {
	var timeout <-chan time.Time
	for {
		lf.mu.Lock()
		got, stopped, wake := lf.dialled[link], lf.stopped, lf.wake
		lf.mu.Unlock()
		if got >= n || stopped {
			return
		}
		if timeout == nil {
			t := time.NewTimer(d)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-wake:
		case <-timeout:
			return
		}
	}
}
