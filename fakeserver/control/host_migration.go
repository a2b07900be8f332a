package control

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/faultline/faultline/fakeserver"
)

// The host's side of migration (Open Server's) and row pacing: what the
// runner does to in-process session servers, over the API.

// decode reads an action's args into v; it answers the request itself on
// error.
func decode(w http.ResponseWriter, a Action, v any) bool {
	if err := json.Unmarshal(a.Args, v); err != nil {
		fail(w, http.StatusBadRequest, "args: "+err.Error())
		return false
	}
	return true
}

// server finds a live server by its path name; nil when the request is
// answered already.
func (h *Host) server(w http.ResponseWriter, r *http.Request) fakeserver.Server {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.slotFor(w, r)
	if s != nil && s.srv == nil {
		fail(w, http.StatusServiceUnavailable, "server "+s.cfg.Name+" is not running")
		return nil
	}
	if s == nil {
		return nil
	}
	return s.srv
}

func (h *Host) peers(w http.ResponseWriter, r *http.Request, a Action) {
	var p Peers
	if !decode(w, a, &p) {
		return
	}
	if p.Store.ID == "" {
		fail(w, http.StatusBadRequest, "peers need a store id")
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.slotFor(w, r)
	if s == nil {
		return
	}
	m, ok := s.srv.(fakeserver.Migrator)
	if !ok {
		fail(w, http.StatusConflict, fmt.Sprintf("server %s (%s) cannot migrate sessions", s.cfg.Name, s.cfg.Kind))
		return
	}
	s.dropStore()
	var store fakeserver.ContextStore = h.stores.get(p.Store.ID)
	if p.Store.URL != "" {
		s.store = NewRemoteStore(p.Store.URL, p.Store.ID, s.cfg.Name, h.log)
		store = s.store
	}
	urls := p.URLs
	m.SetPeers(fakeserver.Peers{Store: store, Resolve: func(name string) (string, bool) {
		u, ok := urls[name]
		return u, ok
	}})
	reply(w, http.StatusOK, struct{}{})
}

// migrator is what a migrate call needs of a server.
type migrator interface {
	Migrate(to string, hold time.Duration) (int, error)
	CancelMigration() int
}

// serverAs is the request's server with the capability T, or, having
// answered 404 (no such server) or 409 (it lacks T, in the words of lacks),
// false.
func serverAs[T any](h *Host, w http.ResponseWriter, r *http.Request, lacks string) (T, bool) {
	var zero T
	srv := h.server(w, r)
	if srv == nil {
		return zero, false
	}
	c, ok := srv.(T)
	if !ok {
		fail(w, http.StatusConflict, fmt.Sprintf("server %s %s", srv.Name(), lacks))
	}
	return c, ok
}

func (h *Host) migrate(w http.ResponseWriter, r *http.Request, a Action) {
	var m Migrate
	if !decode(w, a, &m) {
		return
	}
	mg, ok := serverAs[migrator](h, w, r, "cannot migrate sessions")
	if !ok {
		return
	}
	n, err := mg.Migrate(m.To, time.Duration(m.Hold))
	if err != nil {
		fail(w, http.StatusConflict, err.Error())
		return
	}
	reply(w, http.StatusOK, map[string]int{"asked": n})
}

func (h *Host) cancel(w http.ResponseWriter, r *http.Request, _ Action) {
	mg, ok := serverAs[migrator](h, w, r, "cannot migrate sessions")
	if !ok {
		return
	}
	reply(w, http.StatusOK, map[string]int{"cancelled": mg.CancelMigration()})
}

func (h *Host) pace(w http.ResponseWriter, r *http.Request, a Action) {
	var p Pace
	if !decode(w, a, &p) {
		return
	}
	rp, ok := serverAs[fakeserver.RowPacer](h, w, r, "does not stream rows")
	if !ok {
		return
	}
	rp.PaceRows(time.Duration(p.Every))
	reply(w, http.StatusOK, struct{}{})
}
