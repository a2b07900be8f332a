package check

import "github.com/faultline/faultline/harness/history"

// Completions: each op the harness sent a client's driver, paired with the
// driver's reply (harness evidence: the runner records both, the reply
// naming the op's id, which it numbers per client). One index for every
// checker that asks what became of an op: the routing view's sends,
// discovery and edge ops, a client's accepted commands (migration_view.go)
// and its acknowledged sends (sent_exactly_once.go).

// completion is one op and its reply (nil: none recorded, the op timed out
// or the run ended first).
type completion struct {
	Op    history.Event
	Reply *history.Event
	at    int // the reply's index in the history (-1: no reply)
}

// ok reports whether the driver accepted the op.
func (c completion) ok() bool { return c.Reply != nil && c.Reply.OK }

// completions are every client's ops with their replies, per client in op
// order.
type completions map[int][]completion

type completionsKey struct{}

// completions pairs the history's ops and replies, once per view.
func (v *base) completions() completions {
	return derive(v.memo, completionsKey{}, func() completions { return completionsOf(v.h) })
}

// completionsOf pairs each reply with the latest op of its client that bears
// its id (and has no reply yet).
func completionsOf(h history.History) completions {
	type opKey struct {
		client int
		id     string
	}
	out := completions{}
	last := map[opKey]int{}
	for i, e := range h {
		if e.Source != history.SrcHarness {
			continue
		}
		k := opKey{e.Client, e.Attr("id")}
		switch e.Kind {
		case history.KindOp:
			last[k] = len(out[e.Client])
			out[e.Client] = append(out[e.Client], completion{Op: e, at: -1})
		case history.KindReply:
			if j, ok := last[k]; ok && out[e.Client][j].Reply == nil {
				r := e
				out[e.Client][j].Reply, out[e.Client][j].at = &r, i
			}
		}
	}
	return out
}
