package check

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// Commands: the ops a client's driver accepted (harness evidence,
// completions.go), and the server evidence that each arrived or was
// forwarded by a migration's source.

// command is one op the harness sent and the driver accepted.
type command struct {
	Client int
	Op     history.Event // the op event
	Reply  history.Event // its OK reply
	ID     int64         // the op's id
	N      int64         // send: its number within the client's session (1, 2, …)
	Req    int64         // request: its own id; cancel: the request it cancels
	Rows   int64         // request
}

func (c command) String() string {
	switch c.Op.Op {
	case driver.OpSend:
		return fmt.Sprintf("client %d send n=%d (op %d at %s)", c.Client, c.N, c.ID, dur(c.Op.T))
	case driver.OpRequest:
		return fmt.Sprintf("client %d request %d (%d rows, at %s)", c.Client, c.Req, c.Rows, dur(c.Op.T))
	case driver.OpCancel:
		return fmt.Sprintf("client %d cancel of request %d (op %d at %s)", c.Client, c.Req, c.ID, dur(c.Op.T))
	}
	return fmt.Sprintf("client %d %s (op %d at %s)", c.Client, c.Op.Op, c.ID, dur(c.Op.T))
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// commands lists a client's accepted send, request, cancel and subscribe
// ops (completions.go), in op order; sends are numbered in the order the
// driver accepted them (once per client and view).
func (v *view) commands(c int) []command {
	return derive(v.memo, commandsKey{c}, func() []command { return v.commandsOf(c) })
}

type commandsKey struct{ client int }

func (v *view) commandsOf(c int) []command {
	var done []completion
	for _, cp := range v.completions()[c] {
		if cp.ok() {
			done = append(done, cp)
		}
	}
	sort.SliceStable(done, func(i, j int) bool { return done[i].at < done[j].at })
	var out []command
	var sends int64
	for _, cp := range done {
		op := cp.Op
		cmd := command{Client: c, Op: op, Reply: *cp.Reply, ID: atoi64(op.Attr("id"))}
		switch op.Op {
		case driver.OpSend:
			sends++
			cmd.N = sends
		case driver.OpRequest:
			cmd.Req, cmd.Rows = cmd.ID, atoi64(op.Attr("rows"))
		case driver.OpCancel:
			cmd.Req = atoi64(op.Attr("request"))
		case driver.OpSubscribe:
		default:
			continue
		}
		out = append(out, cmd)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Op.T < out[j].Op.T })
	return out
}

// commandEvidence lists the server events that show a command arrived (in
// the client's sessions), and whether the command needed to arrive at all
// (a cancel of a request that had already ended needs not).
func (v *view) commandEvidence(cmd command, sessions map[string]bool, reqs map[int64]*reqTrace) ([]history.Event, bool) {
	var out []history.Event
	match := func(e history.Event) bool {
		switch cmd.Op.Op {
		case driver.OpSend:
			return e.Kind == history.KindReceive && e.Seq == cmd.N
		case driver.OpRequest:
			return e.Kind == history.KindRequest && atoi64(e.Attr("req")) == cmd.Req
		case driver.OpCancel:
			return e.Kind == history.KindAttention && atoi64(e.Attr("req")) == cmd.Req
		case driver.OpSubscribe:
			return e.Kind == history.KindSubscribe && e.Topic == cmd.Op.Topic
		}
		return false
	}
	for _, e := range v.h {
		if e.Source == history.SrcServer && sessions[e.Session] && match(e) {
			out = append(out, e)
		}
	}
	if cmd.Op.Op == driver.OpCancel {
		if rq := reqs[cmd.Req]; rq != nil && len(rq.Dones) > 0 && rq.Dones[0].T <= cmd.Reply.T && len(out) == 0 {
			return nil, false // the request had ended: the engine had nothing to cancel
		}
	}
	return out, true
}

// forwardNote says what became of a lost command at a source, if anything.
func (v *view) forwardNote(cmd command, sessions map[string]bool) string {
	for _, e := range v.h {
		if e.Kind != history.KindMigrationForward || !sessions[e.Session] {
			continue
		}
		same := false
		switch cmd.Op.Op {
		case driver.OpSend:
			same = e.Attr("what") == "send" && e.Seq == cmd.N
		case driver.OpRequest, driver.OpCancel:
			same = atoi64(e.Attr("req")) == cmd.Req && (e.Attr("what") == "req") == (cmd.Op.Op == driver.OpRequest)
		}
		if same {
			if e.Attr("dropped") == "true" {
				return fmt.Sprintf(" (the source %s forwarded it at %s, but the shared context was gone)", e.Server, dur(e.T))
			}
			return fmt.Sprintf(" (the source %s forwarded it at %s, but no server ran it)", e.Server, dur(e.T))
		}
	}
	return ""
}
