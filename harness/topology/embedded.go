package topology

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/proxy"
)

// Embedded runs the fake servers and Toxiproxy in this process: one machine,
// no HTTP between the harness and the servers, events recorded as they
// happen. It is the default.
type Embedded struct {
	// Toxiproxy makes the links' Toxiproxy; nil is an in-process one.
	Toxiproxy func(rec history.Recorder) (proxy.Toxiproxy, error)
}

var _ Topology = Embedded{}

// Name is "embedded".
func (Embedded) Name() string { return "embedded" }

// Up starts each server on 127.0.0.1:0, then the Toxiproxy.
func (e Embedded) Up(ctx context.Context, sc *scenario.Scenario, rec history.Recorder) (*Deployment, error) {
	nodes := map[string]Node{}
	var started []fakeserver.Server
	closeAll := func(context.Context) error {
		var errs []error
		for _, s := range started {
			if err := s.Close(); err != nil {
				errs = append(errs, fmt.Errorf("server %s close: %w", s.Name(), err))
			}
		}
		return errors.Join(errs...)
	}
	faulted := ProcessFaulted(sc)
	for _, s := range sc.Servers {
		var srv fakeserver.Server
		var err error
		if faulted[s.Name] {
			srv, err = startEmbedded(s, rec)
		} else {
			// Today's behaviour, unchanged: the kind's own handle, with
			// whatever else its kind implements.
			srv, err = fakeserver.Start(s.Kind, s.Name, rec, fakeserver.Config{Ping: s.Ping, Retention: s.Retention, Buffer: s.Buffer})
		}
		if err != nil {
			_ = closeAll(ctx)
			return nil, fmt.Errorf("server %s: %w", s.Name, err)
		}
		started = append(started, srv)
		nodes[s.Name] = Node{Server: srv, Upstream: srv.Addr()}
	}
	mk := e.Toxiproxy
	if mk == nil {
		mk = func(rec history.Recorder) (proxy.Toxiproxy, error) { return proxy.NewEmbedded(rec) }
	}
	tp, err := mk(rec)
	if err != nil {
		_ = closeAll(ctx)
		return nil, fmt.Errorf("toxiproxy: %w", err)
	}
	return NewDeployment(tp, nodes, closeAll), nil
}

// ProcessFaulted names the servers a scenario kills or restarts.
func ProcessFaulted(sc *scenario.Scenario) map[string]bool {
	out := map[string]bool{}
	for _, st := range sc.Steps {
		if st.Server != "" && (st.Kill || st.Restart) {
			out[st.Server] = true
		}
	}
	return out
}

// embeddedServer is an in-process fake server that can be killed and
// restarted: a kill closes it (listener and connections at once, sessions
// gone), a restart starts a fresh one of the same kind on the same address.
// Only servers that a scenario kills or restarts are wrapped so: every other
// server is its kind's own handle.
type embeddedServer struct {
	name, kind string
	cfg        fakeserver.Config // Listen is the address bound at the first start
	rec        history.Recorder  // the run's: process events
	rn         *renumber         // the server's events, connection ids kept unique

	mu     sync.Mutex // serialises kill, restart and close
	srv    fakeserver.Server
	closed bool
}

var (
	_ fakeserver.Server        = (*embeddedServer)(nil)
	_ fakeserver.Publisher     = (*embeddedServer)(nil)
	_ fakeserver.SessionCloser = (*embeddedServer)(nil)
	_ fakeserver.Killer        = (*embeddedServer)(nil)
	_ fakeserver.Restarter     = (*embeddedServer)(nil)
)

func startEmbedded(s scenario.Server, rec history.Recorder) (*embeddedServer, error) {
	e := &embeddedServer{name: s.Name, kind: s.Kind, rec: rec, rn: newRenumber(rec),
		cfg: fakeserver.Config{Ping: s.Ping, Retention: s.Retention, Buffer: s.Buffer}}
	srv, err := fakeserver.Start(e.kind, e.name, e.rn, e.cfg)
	if err != nil {
		return nil, err
	}
	e.srv = srv
	e.cfg.Listen = srv.Addr() // a restart comes back here, where the link points
	return e, nil
}

func (e *embeddedServer) Name() string { return e.name }
func (e *embeddedServer) Addr() string { return e.cfg.Listen }
func (e *embeddedServer) URL() string  { return fakeserver.URL(e.kind, e.cfg.Listen) }

// Unwrap is the live server (nil while killed): a kind's own actions act on it.
func (e *embeddedServer) Unwrap() fakeserver.Server { return e.current() }

// Close stops the server for good.
func (e *embeddedServer) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	if e.srv == nil {
		return nil
	}
	err := e.srv.Close()
	e.srv = nil
	return err
}

func (e *embeddedServer) current() fakeserver.Server {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.srv
}

// refuse records why an action found no server to act on.
func (e *embeddedServer) refuse(action string) {
	e.rec.Record(history.Event{Source: history.SrcHarness, Kind: history.KindError, Server: e.name,
		Reason: action + " on " + e.name + ": the server is killed"})
}

// Publish publishes on the live server; a killed one publishes nothing, as
// a dead process would not.
func (e *embeddedServer) Publish(topic string, data json.RawMessage) int64 {
	p, ok := e.current().(fakeserver.Publisher)
	if !ok {
		e.refuse("publish")
		return 0
	}
	return p.Publish(topic, data)
}

// CloseSessions closes the live server's sessions.
func (e *embeddedServer) CloseSessions() {
	c, ok := e.current().(fakeserver.SessionCloser)
	if !ok {
		e.refuse("close sessions")
		return
	}
	c.CloseSessions()
}

// Kill closes the server at once; everything it held is gone.
func (e *embeddedServer) Kill(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errors.New("server is closed")
	}
	if e.srv == nil {
		return errors.New("already killed")
	}
	err := e.srv.Close()
	e.srv = nil
	e.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindKill, Server: e.name})
	return err
}

// Restart starts a fresh server on the same address (killing the running one
// first, if any: a bounce).
func (e *embeddedServer) Restart(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errors.New("server is closed")
	}
	if e.srv != nil {
		_ = e.srv.Close()
		e.srv = nil
		e.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindKill, Server: e.name})
	}
	e.rn.rebase()
	srv, err := fakeserver.Start(e.kind, e.name, e.rn, e.cfg)
	if err != nil {
		return fmt.Errorf("start again on %s: %w", e.cfg.Listen, err)
	}
	e.srv = srv
	e.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindRestart, Server: e.name})
	return nil
}
