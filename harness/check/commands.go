package check

import (
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// Commands: the ops a client's driver accepted (harness evidence,
// completions.go), and the server evidence that each arrived or was
// forwarded by a migration's source.

// commandView is what the clients were asked to do and what became of it:
// their commands, requests and topic streams (seqs.go),
// each read within the client's sessions.
type commandView struct {
	*view              // the index
	sv    *sessionView // a client's commands live in its sessions
}

func newCommandView(v *view, sv *sessionView) *commandView { return &commandView{view: v, sv: sv} }

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

// of lists a client's accepted send, request, cancel and subscribe
// ops (completions.go), in op order; sends are numbered in the order the
// driver accepted them (once per client and view).
func (v *commandView) of(c int) []command {
	return derive(v.memo, commandsKey{c}, func() []command { return v.find(c) })
}

type commandsKey struct{ client int }

// find computes of.
func (v *commandView) find(c int) []command {
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
func (v *commandView) commandEvidence(cmd command, sessions map[string]bool, reqs map[int64]*reqTrace) ([]history.Event, bool) {
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
func (v *commandView) forwardNote(cmd command, sessions map[string]bool) string {
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

// ---- requests -------------------------------------------------------------

// reqKey names a request of one session.
type reqKey struct {
	Session string
	Req     int64
}

// reqTrace is one request as every side saw it.
type reqTrace struct {
	Client     int
	Session    string
	Req, Total int64 // id, rows asked
	Op         *command
	Requests   []history.Event // server request events (dup ones included)
	ServerRows []history.Event // server row events, in order
	ServerDone []history.Event // server done events
	Attns      []history.Event // server attention events
	Got        []history.Event // client row events, in order
	Dones      []history.Event // client done events
}

// servers lists the servers that wrote rows of it, in order of first row.
func (r *reqTrace) servers() []string {
	var out []string
	for _, e := range r.ServerRows {
		if !slices.Contains(out, e.Server) {
			out = append(out, e.Server)
		}
	}
	return out
}

// cancelledDone is the server's first done with cancelled=true.
func (r *reqTrace) cancelledDone() (history.Event, bool) {
	for _, e := range r.ServerDone {
		if e.Attr("cancelled") == "true" {
			return e, true
		}
	}
	return history.Event{}, false
}

// requests gathers the client's requests (by op) with every side's events.
// A client's requests live in its sessions; ids are the ops' ids.
func (v *commandView) requests(c int) []*reqTrace {
	sessions := v.sv.of(c)
	inSess := map[string]bool{}
	for _, s := range sessions {
		inSess[s] = true
	}
	sessOf := ""
	if len(sessions) > 0 {
		sessOf = sessions[0]
	}
	byID := map[int64]*reqTrace{}
	var out []*reqTrace
	get := func(id int64) *reqTrace {
		r := byID[id]
		if r == nil {
			r = &reqTrace{Client: c, Session: sessOf, Req: id}
			byID[id] = r
			out = append(out, r)
		}
		return r
	}
	for _, cmd := range v.of(c) {
		if cmd.Op.Op == driver.OpRequest {
			cmd := cmd
			r := get(cmd.Req)
			r.Op, r.Total = &cmd, cmd.Rows
		}
	}
	for _, e := range v.h {
		id := atoi64(e.Attr("req"))
		if e.Source == history.SrcClient {
			id = atoi64(e.Attr("request"))
			if e.Client != c || (e.Kind != history.KindRow && e.Kind != history.KindDone) {
				continue
			}
		} else if e.Source != history.SrcServer || !inSess[e.Session] {
			continue
		}
		if id == 0 {
			continue
		}
		r := byID[id]
		if r == nil {
			if e.Source == history.SrcServer && e.Kind != history.KindRequest {
				continue // evidence of a request no op of this client made
			}
			r = get(id)
		}
		if e.Source == history.SrcServer && r.Session == "" {
			r.Session = e.Session
		}
		switch {
		case e.Source == history.SrcClient && e.Kind == history.KindRow:
			r.Got = append(r.Got, e)
		case e.Source == history.SrcClient:
			r.Dones = append(r.Dones, e)
		case e.Kind == history.KindRequest:
			r.Requests = append(r.Requests, e)
			if r.Total == 0 {
				r.Total = atoi64(e.Attr("rows"))
			}
		case e.Kind == history.KindRow:
			r.ServerRows = append(r.ServerRows, e)
		case e.Kind == history.KindDone:
			r.ServerDone = append(r.ServerDone, e)
		case e.Kind == history.KindAttention:
			r.Attns = append(r.Attns, e)
		}
	}
	return out
}
