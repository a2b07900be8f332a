package control

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/faultline/faultline/fakeserver"
)

// Action is the body of POST /servers/{name}/actions/{action}, the one
// endpoint of every action on a server: a server kind's own actions
// (fakeserver.Kind.Actions) and the capabilities below, so that a new kind's
// action needs no new route, client call or handle.
type Action struct {
	// Args are the action's attributes, as JSON (its attributes struct's
	// field names); absent for a flag action.
	Args json.RawMessage `json:"args,omitempty"`
	// URLs are the client-facing URLs of the run's servers, by name, for
	// actions that name other servers (announce).
	URLs map[string]string `json:"urls,omitempty"`
}

// capability is an action a server has by what it can do (publish, close
// its sessions, migrate them, pace rows: fakeserver.Publisher, Migrator, …)
// rather than by its kind's registry; its reply body is the action's result.
type capability func(h *Host, w http.ResponseWriter, r *http.Request, a Action)

// The capabilities, by action name (fakeserver.Capabilities: no kind may
// register an action under one of these names).
var capabilities = map[string]capability{
	ActPublish:       (*Host).publish,       // ← Publish → {"seq": n}
	ActCloseSessions: (*Host).closeSessions, // → {}: every session closed deliberately
	ActPeers:         (*Host).peers,         // ← Peers → {}
	ActMigrate:       (*Host).migrate,       // ← Migrate → {"asked": n}
	ActCancelMigrate: (*Host).cancel,        // → {"cancelled": n}
	ActPaceRows:      (*Host).pace,          // ← Pace → {}
}

// The capabilities' action names.
const (
	ActPublish       = fakeserver.CapPublish
	ActCloseSessions = fakeserver.CapCloseSessions
	ActPeers         = fakeserver.CapPeers
	ActMigrate       = fakeserver.CapMigrate
	ActCancelMigrate = fakeserver.CapCancelMigrate
	ActPaceRows      = fakeserver.CapPaceRows
)

// action runs an action on a hosted server: a capability, or its kind's own.
func (h *Host) action(w http.ResponseWriter, r *http.Request) {
	var a Action
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&a); err != nil {
		fail(w, http.StatusBadRequest, fmt.Sprintf("an action is {args, urls}: %v", err))
		return
	}
	if c, ok := capabilities[r.PathValue("action")]; ok {
		if len(a.Args) == 0 {
			a.Args = json.RawMessage("{}")
		}
		c(h, w, r, a)
		return
	}
	h.mu.Lock()
	s := h.slotFor(w, r)
	var srv fakeserver.Server
	var kind string
	if s != nil {
		srv, kind = s.srv, s.cfg.Kind
	}
	h.mu.Unlock()
	if s == nil {
		return
	}
	name := r.PathValue("action")
	args, ok := fakeserver.ActionArgs(kind, name)
	if !ok {
		fail(w, http.StatusNotFound, fmt.Sprintf("server %s (%s) has no action %q (its actions: %v)", s.cfg.Name, kind, name, fakeserver.ActionNames(kind)))
		return
	}
	if args != nil && len(a.Args) > 0 {
		if err := json.Unmarshal(a.Args, args); err != nil {
			fail(w, http.StatusBadRequest, fmt.Sprintf("action %s: bad args: %v", name, err))
			return
		}
	}
	env := fakeserver.Env{URL: func(n string) (string, bool) { u, ok := a.URLs[n]; return u, ok }}
	if err := fakeserver.Do(r.Context(), kind, name, srv, args, env); err != nil {
		fail(w, http.StatusConflict, err.Error())
		return
	}
	reply(w, http.StatusOK, struct{}{})
}

// Act runs a kind's own action on the named server.
func (c *Client) Act(ctx context.Context, name, action string, a Action) error {
	return c.call(ctx, http.MethodPost, "/servers/"+name+"/actions/"+action, a, nil)
}

// capability runs a capability on the named server: args (nil: none) go
// as the action's args, the reply decodes into out (nil: ignored).
func (c *Client) capability(ctx context.Context, name, action string, args, out any) error {
	var a Action
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return err
		}
		a.Args = b
	}
	return c.call(ctx, http.MethodPost, "/servers/"+name+"/actions/"+action, a, out)
}

// DoAction implements fakeserver.Actor: the action runs where the server is.
func (s *Server) DoAction(ctx context.Context, action string, args any, env fakeserver.Env) error {
	var a Action
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return err
		}
		a.Args = b
	}
	if len(env.Names) > 0 {
		a.URLs = map[string]string{}
		for _, n := range env.Names {
			if u, ok := env.URL(n); ok {
				a.URLs[n] = u
			}
		}
	}
	return s.Client().Act(ctx, s.name, action, a)
}
