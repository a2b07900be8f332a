package scenario

import (
	"fmt"
	"reflect"
	"time"
)

// Migration (the Open Server family, M1–M6; docs/requirements.md): session servers ask their sessions to move
// to another server that shares their context store; clients stream
// requests and cancel them.
//
//	client:
//	  migration: {enabled: true, timeout: 1s}     # enabled false: the client cannot migrate
//	steps:
//	  - {at: 0s, client: {request: {rows: 500, every: 2ms}}}   # every: the servers' row pacing
//	  - {at: 1s, server: s1, migrate: {to: s2}}               # hold: wait after READY before starting
//	  - {at: 1s, server: s1, migrate: {to: s3, hold: 300ms}}  # again before it started: a re-target
//	  - {at: 1200ms, server: s1, migrate: {cancel: true}}     # cancel a migration not yet started
//	  - {at: 1100ms, client: {cancel: true}}                  # attention for the client's latest request

// Migration is the client's migration block.
type Migration struct {
	Enabled *bool         `json:"enabled,omitempty"` // default true
	Timeout time.Duration `json:"timeout,omitempty"` // bound on reaching the target; default the connect timeout
}

// MigrationOn reports whether the client supports migration (default true).
func (c Client) MigrationOn() bool { return c.Migration.Enabled == nil || *c.Migration.Enabled }

// Migrate is a server's migration action: exactly one of To and Cancel.
type Migrate struct {
	To     string        `json:"to,omitempty"`     // target server (also a re-target while not started)
	Hold   time.Duration `json:"hold,omitempty"`   // after the client's READY, wait this long before starting
	Cancel bool          `json:"cancel,omitempty"` // cancel every migration of the server not yet started
}

// DefaultRowEvery is the servers' row pacing when a request gives none.
const DefaultRowEvery = 2 * time.Millisecond

// MaxRows bounds a request's rows.
const MaxRows = 1_000_000

func init() {
	stepKeys["migrate"] = "server"
	serverActions = append(serverActions, "migrate")
	clientOps = append(clientOps, "request", "cancel")
}

// migrateStep decodes {migrate: {to: s2, hold: 300ms}} or {migrate: {cancel: true}}.
func (p *parser) migrateStep(sc *Scenario, st *Step, kv pair) {
	st.Migrate = &Migrate{}
	done := p.mark()
	p.mapping(kv.val, reflect.ValueOf(st.Migrate).Elem(), "migrate", "migrate", "json")
	if !done() {
		return
	}
	m := st.Migrate
	switch {
	case m.To != "" && m.Cancel:
		p.errorf(lookupKey(kv.val, "cancel"), "migrate has both to and cancel: use one step each")
		return
	case m.To == "" && !m.Cancel:
		if n := lookup(kv.val, "cancel"); n != nil {
			p.errorf(n, "migrate.cancel: false does nothing; remove it")
			return
		}
		p.errorf(kv.val, "migrate needs to (the target server) or cancel: true")
		return
	case m.Cancel && lookup(kv.val, "hold") != nil:
		p.errorf(lookupKey(kv.val, "hold"), "migrate.hold goes with to: a cancel holds nothing")
		return
	case m.Cancel:
		return
	}
	to := lookup(kv.val, "to")
	p.serverRef(sc, to, m.To, "migration target")
	if m.To == st.Server && st.Server != "" {
		p.errorf(to, "server %s cannot migrate its sessions to itself", m.To)
	}
	if s, ok := sc.Server(m.To); ok && s.Kind != "session" {
		p.errorf(to, "migration target %q is of kind %s: sessions migrate to session servers", m.To, s.Kind)
	}
}

// requestArgs is the request op's mapping.
type requestArgs struct {
	Rows  int           `yaml:"rows"`
	Every time.Duration `yaml:"every"`
}

// requestOp decodes {request: {rows: 500, every: 2ms}} and {cancel: true}.
func (p *parser) requestOp(cs *ClientStep, op pair) {
	switch op.name {
	case "request":
		args := requestArgs{}
		done := p.mark()
		p.mapping(op.val, reflect.ValueOf(&args).Elem(), "request", "client.request", "yaml")
		if !done() {
			return
		}
		switch rows := lookup(op.val, "rows"); {
		case rows == nil:
			p.errorf(op.val, "request needs rows (how many rows the server streams)")
		case args.Rows < 1 || args.Rows > MaxRows:
			p.errorf(rows, "request rows must be between 1 and %d, got %d", MaxRows, args.Rows)
		}
		if n := lookup(op.val, "every"); n != nil && args.Every == 0 {
			p.errorf(n, "request every must be positive (omit it for %s)", DefaultRowEvery)
		}
		cs.Op, cs.Rows, cs.Every = "request", args.Rows, args.Every
	case "cancel":
		var b bool
		p.boolTrue(op, &b, "client.cancel")
		cs.Op = "cancel"
	}
}

// migration checks what needs the whole file: migrate steps on session
// servers of a client that is no router, cancels after a request.
func (p *parser) migration(sc *Scenario) {
	var firstReq *Step
	for i := range sc.Steps {
		st := &sc.Steps[i]
		at := st.Pos
		switch {
		case st.Migrate != nil:
			if s, ok := sc.Server(st.Server); ok && s.Kind != "session" {
				p.errs = append(p.errs, Error{Pos: at, Msg: fmt.Sprintf("server %s is of kind %s: only session servers migrate sessions", st.Server, s.Kind)})
			}
			if sc.Client.IsRouter() {
				p.errs = append(p.errs, Error{Pos: at, Msg: "migrate moves client sessions: a router scenario has none"})
			}
		case st.Client != nil && st.Client.Op == "request":
			if firstReq == nil {
				firstReq = st
			}
			if sc.Client.IsRouter() {
				p.errs = append(p.errs, Error{Pos: at, Msg: "request is a session's streaming request: a router has none"})
			}
		case st.Client != nil && st.Client.Op == "cancel":
			if firstReq == nil || firstReq.At > st.At {
				p.errs = append(p.errs, Error{Pos: at, Msg: fmt.Sprintf("cancel at %s has no request before it to cancel", st.At)})
			}
		}
	}
}
