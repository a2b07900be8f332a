package regdoc

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/faultline/faultline/fakeserver"

	// The protocol packs register their server kinds when imported.
	_ "github.com/faultline/faultline/packs/all"
)

// fixedServerKeys are the server step's own keys (hand-written in
// schema.json); every other property of $defs/serverStep is a server kind's
// action, generated here.
var fixedServerKeys = []string{"at", "server", "publish", "close", "kill", "restart", "migrate"}

// Action is one server kind's own server-step action.
type Action struct {
	Name   string
	Doc    string
	Kinds  []string // the kinds that have it
	Params []Param  // nil for a flag action (`name: true`)
	Flag   bool
}

// Actions returns the server kinds' own actions, sorted by name; an action
// two kinds share must mean the same (the same doc and attributes).
func Actions() ([]Action, error) {
	byName := map[string]*Action{}
	for _, k := range fakeserver.Kinds() {
		kind, _ := fakeserver.LookupKind(k)
		for _, n := range fakeserver.ActionNames(k) {
			a := kind.Actions[n]
			if a.Doc == "" {
				return nil, fmt.Errorf("regdoc: server kind %s: action %s has no Doc", k, n)
			}
			if slices.Contains(fixedServerKeys, n) {
				return nil, fmt.Errorf("regdoc: server kind %s: action %s shadows a server step key", k, n)
			}
			if prev, ok := byName[n]; ok {
				if prev.Doc != a.Doc || prev.Flag != (a.Args == nil) {
					return nil, fmt.Errorf("regdoc: action %s means different things to kinds %s and %s", n, strings.Join(prev.Kinds, ", "), k)
				}
				prev.Kinds = append(prev.Kinds, k)
				continue
			}
			out := &Action{Name: n, Doc: a.Doc, Kinds: []string{k}, Flag: a.Args == nil}
			if a.Args != nil {
				t := reflect.TypeOf(a.Args())
				td, err := docsOf(t)
				if err != nil {
					return nil, err
				}
				if out.Params, err = params(t.Elem(), td, "action_"+n); err != nil {
					return nil, err
				}
			}
			byName[n] = out
		}
	}
	var out []Action
	for _, a := range byName {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b Action) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// serverStep is $defs/serverStep with the kinds' actions as properties and
// as alternatives of its oneOf, after the hand-written ones.
func serverStep(o Obj, actions []Action) (Obj, error) {
	pv, _ := o.Get("properties")
	props, ok := pv.(Obj)
	if !ok {
		return nil, fmt.Errorf("regdoc: $defs/serverStep has no properties")
	}
	var kept Obj
	for _, m := range props {
		if slices.Contains(fixedServerKeys, m.K) {
			kept = append(kept, m)
		}
	}
	var oneOf []any
	for _, k := range fixedServerKeys[2:] {
		oneOf = append(oneOf, Obj{{"required", []any{k}}})
	}
	for _, a := range actions {
		desc := fmt.Sprintf("%s (server kinds: %s)", capitalize(a.Doc), strings.Join(a.Kinds, ", "))
		if a.Flag {
			kept = append(kept, Member{a.Name, Obj{{"description", desc}, {"const", true}}})
		} else {
			d, err := paramsDef(desc, Obj{}, a.Params)
			if err != nil {
				return nil, err
			}
			kept = append(kept, Member{a.Name, d.Set("type", "object")})
		}
		oneOf = append(oneOf, Obj{{"required", []any{a.Name}}})
	}
	names := slices.Clone(fixedServerKeys[2:])
	for _, a := range actions {
		names = append(names, a.Name)
	}
	o = o.Set("description", "A server action: exactly one of "+strings.Join(names, ", ")+" (a server kind's own actions only on servers of that kind).")
	return o.Set("properties", kept).Set("oneOf", oneOf), nil
}
