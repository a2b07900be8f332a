package control

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/faultline/faultline/fakeserver"
)

// Action is the body of POST /servers/{name}/actions/{action}: a server
// kind's own action (fakeserver.Kind.Actions), one endpoint for all of them,
// so that a new kind's action needs no new route, client call or handle.
type Action struct {
	// Args are the action's attributes, as JSON (its attributes struct's
	// field names); absent for a flag action.
	Args json.RawMessage `json:"args,omitempty"`
	// URLs are the client-facing URLs of the run's servers, by name, for
	// actions that name other servers (announce).
	URLs map[string]string `json:"urls,omitempty"`
}

// action runs a kind's action on a hosted server.
func (h *Host) action(w http.ResponseWriter, r *http.Request) {
	var a Action
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&a); err != nil {
		fail(w, http.StatusBadRequest, fmt.Sprintf("an action is {args, urls}: %v", err))
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
