package scenario

import (
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// MaxClients caps clients: a typo such as 100000 would otherwise start that
// many sessions (and, over stdio, hundreds of driver processes) before any
// check could fail. Ten times the scale scenario leaves room to grow.
const MaxClients = 10000

var topKeys = []string{"name", "covers", "labels", "duration", "servers", "client", "clients", "steps", "expect"}

// scenario walks the top-level mapping. Sections are handled in a fixed
// order, not file order, so that names (servers, covers, clients) are known
// before the sections that refer to them.
func (p *parser) scenario(root *yaml.Node) (*Scenario, Pos) {
	sc := &Scenario{File: p.file, Clients: 1}
	top := map[string]pair{}
	for _, kv := range p.pairs(root) {
		if !slices.Contains(topKeys, kv.name) {
			p.unknownKey(kv.key, kv.name, "scenario", topKeys)
			continue
		}
		top[kv.name] = kv
	}
	required := func(key string) (pair, bool) {
		kv, ok := top[key]
		if !ok {
			p.errorf(root, "missing key %q", key)
		}
		return kv, ok
	}

	namePos := p.name(sc, top["name"])
	if kv, ok := required("covers"); ok {
		p.covers(sc, kv)
	}
	if kv, ok := top["labels"]; ok {
		p.labels(sc, kv)
	}
	if kv, ok := top["clients"]; ok {
		done := p.mark()
		p.value(kv.val, reflect.ValueOf(&sc.Clients).Elem(), "clients", "json")
		switch {
		case !done():
		case sc.Clients < 1:
			p.errorf(kv.val, "clients must be at least 1, got %d", sc.Clients)
		case sc.Clients > MaxClients:
			p.errorf(kv.val, "clients must be at most %d, got %d", MaxClients, sc.Clients)
		}
	}
	if kv, ok := required("servers"); ok {
		p.servers(sc, kv)
	}
	if kv, ok := required("client"); ok {
		p.client(sc, kv)
	}
	if kv, ok := top["steps"]; ok {
		p.steps(sc, kv)
	}
	if kv, ok := required("expect"); ok {
		p.expects(sc, kv)
	}
	if kv, ok := top["duration"]; ok {
		p.runDuration(sc, kv)
	}
	p.routing(sc, top)
	p.migration(sc)     // migration.go
	p.preconditions(sc) // preconditions.go: last, on an otherwise valid file
	return sc, namePos
}

// name sets the scenario's name, by default the file's base name without
// its extension, and returns where it is (1:1 when defaulted).
func (p *parser) name(sc *Scenario, kv pair) Pos {
	if kv.val == nil {
		base := filepath.Base(p.file)
		sc.Name = strings.TrimSuffix(base, filepath.Ext(base))
		if sc.Name == "" || sc.Name == "." {
			p.errs = append(p.errs, Error{Pos: Pos{File: p.file, Line: 1, Col: 1}, Msg: "scenario needs a name (none given, and the file name gives none)"})
		}
		return Pos{File: p.file, Line: 1, Col: 1}
	}
	if p.value(kv.val, reflect.ValueOf(&sc.Name).Elem(), "name", "json"); sc.Name == "" && deref(kv.val).Kind == yaml.ScalarNode {
		p.errorf(kv.val, "name is empty")
	}
	return p.pos(kv.val)
}

// names decodes a list of strings, returning each item's node for positions.
func (p *parser) names(kv pair, out *[]string) ([]*yaml.Node, bool) {
	done := p.mark()
	p.value(kv.val, reflect.ValueOf(out).Elem(), kv.name, "json")
	if !done() {
		return nil, false
	}
	return deref(kv.val).Content, true
}

func (p *parser) covers(sc *Scenario, kv pair) {
	items, ok := p.names(kv, &sc.Covers)
	if !ok {
		return
	}
	p.coversOK = true
	if len(items) == 0 {
		p.errorf(kv.val, "covers is empty: name the requirements this scenario judges")
	}
	seen := map[string]bool{}
	for i, id := range sc.Covers {
		switch {
		case !slices.Contains(p.reg.Requirements, id):
			p.errorf(items[i], "unknown requirement %q%s", id, suggest(id, "requirements", p.reg.Requirements))
		case seen[id]:
			p.errorf(items[i], "requirement %s is listed twice", id)
		}
		seen[id] = true
	}
}

func (p *parser) labels(sc *Scenario, kv pair) {
	items, ok := p.names(kv, &sc.Labels)
	if !ok {
		return
	}
	seen := map[string]bool{}
	for i, l := range sc.Labels {
		switch {
		case l == "":
			p.errorf(items[i], "empty label")
		case !serverName.MatchString(l): // "a b", "a&&b": no --label or Ginkgo filter could name it
			p.errorf(items[i], "bad label %q: use [a-z0-9_-]+", l)
		case seen[l]:
			p.errorf(items[i], "label %q is listed twice", l)
		}
		seen[l] = true
	}
}

// duration checks the run's end against the timeline: a step that ends after
// the run would be cut short silently.
func (p *parser) runDuration(sc *Scenario, kv pair) {
	done := p.mark()
	p.value(kv.val, reflect.ValueOf(&sc.Duration).Elem(), "duration", "json")
	if !done() {
		return
	}
	if sc.Duration == 0 {
		p.errorf(kv.val, "duration must be positive (omit it to end %s after the last step)", Settle)
		return
	}
	var last *Step
	for i := range sc.Steps {
		if st := &sc.Steps[i]; last == nil || st.At+st.For > last.At+last.For {
			last = st
		}
	}
	if last != nil && last.At+last.For > sc.Duration {
		p.errorf(kv.val, "duration %s ends before the step at line %d, which runs until %s",
			sc.Duration, last.Pos.Line, last.At+last.For)
	}
}

var serverName = regexp.MustCompile(`^[a-z0-9_-]+$`)

func (p *parser) servers(sc *Scenario, kv pair) {
	seq := deref(kv.val)
	if seq.Kind != yaml.SequenceNode {
		p.errorf(kv.val, "expected a list for servers, got %s", describe(seq))
		return
	}
	if len(seq.Content) == 0 {
		p.errorf(kv.val, "servers is empty: declare at least one")
	}
	first := map[string]*yaml.Node{}
	for _, item := range seq.Content {
		s := Server{Kind: "session", Pos: p.pos(deref(item))}
		done := p.mark()
		p.mapping(item, reflect.ValueOf(&s).Elem(), "", "server", "json")
		if !done() {
			// Still declare a named server so that references to it do not
			// add errors of their own.
			if s.Name != "" {
				sc.Servers = append(sc.Servers, s)
			}
			continue
		}
		nameNode := lookup(item, "name")
		switch {
		case nameNode == nil:
			p.errorf(item, "server needs a name")
		case !serverName.MatchString(s.Name):
			p.errorf(nameNode, "bad server name %q: use [a-z0-9_-]+", s.Name)
		case first[s.Name] != nil:
			f := first[s.Name]
			p.errorf(nameNode, "duplicate server name %q (first at line %d, col %d)", s.Name, f.Line, f.Column)
		default:
			first[s.Name] = nameNode
		}
		if !slices.Contains(p.reg.Kinds, s.Kind) {
			p.errorf(or(lookup(item, "kind"), item), "unknown server kind %q%s", s.Kind, suggest(s.Kind, "kinds", p.reg.Kinds))
		}
		if s.Buffer < 0 {
			p.errorf(or(lookup(item, "buffer"), item), "buffer must not be negative")
		}
		sc.Servers = append(sc.Servers, s)
	}
}

// serverRef reports n (a server name in a reference) when no server has it.
func (p *parser) serverRef(sc *Scenario, n *yaml.Node, name, what string) {
	if _, ok := sc.Server(name); ok {
		return
	}
	declared := make([]string, len(sc.Servers))
	for i, s := range sc.Servers {
		declared[i] = s.Name
	}
	p.errorf(n, "unknown %s %q (declared servers: %s)", what, name, list(declared))
}

var (
	defaultInitial = 100 * time.Millisecond
	backoffs       = []string{"exponential", "fixed"}
)

func (p *parser) client(sc *Scenario, kv pair) {
	c := &sc.Client
	*c = Client{Reconnect: Reconnect{Enabled: true, Strategy: Strategy{Backoff: "exponential", Initial: defaultInitial}}}
	done := p.mark()
	p.mapping(kv.val, reflect.ValueOf(c).Elem(), "client", "client", "json")
	if !done() && deref(kv.val).Kind != yaml.MappingNode {
		return
	}
	node := func(keys ...string) *yaml.Node { return or(lookupPath(kv.val, keys...), kv.val) }

	if lookup(kv.val, "servers") == nil {
		p.errorf(kv.key, "client.servers is missing: name at least one server")
	} else if servers := deref(lookup(kv.val, "servers")); servers.Kind == yaml.SequenceNode {
		if len(servers.Content) == 0 {
			p.errorf(servers, "client.servers is empty: name at least one server")
		}
		seen := map[string]bool{}
		for i, item := range servers.Content {
			if i >= len(c.Servers) || deref(item).Kind != yaml.ScalarNode || isNull(deref(item)) {
				continue
			}
			name := c.Servers[i]
			if seen[name] {
				p.errorf(item, "server %q is listed twice in client.servers", name)
			}
			seen[name] = true
			p.serverRef(sc, item, name, "server")
		}
	}

	st := &c.Reconnect.Strategy
	if !slices.Contains(backoffs, st.Backoff) {
		p.errorf(node("reconnect", "strategy", "backoff"), "unknown backoff %q (exponential, fixed)", st.Backoff)
	}
	switch {
	case st.Multiplier < 0:
		p.errorf(node("reconnect", "strategy", "multiplier"), "multiplier must not be negative")
	case st.Multiplier == 0 && st.Backoff == "exponential":
		st.Multiplier = 2
	case st.Multiplier < 1 && st.Backoff == "exponential":
		p.errorf(node("reconnect", "strategy", "multiplier"), "multiplier %g would shrink the delays: use at least 1", st.Multiplier)
	}
	if st.Max > 0 && st.Max < st.Initial {
		p.errorf(node("reconnect", "strategy", "max"), "max %s is below initial %s", st.Max, st.Initial)
	}
	if st.Attempts < 0 {
		p.errorf(node("reconnect", "strategy", "attempts"), "attempts must not be negative (0: no limit)")
	}
	if st.Jitter < 0 || st.Jitter > 1 {
		p.errorf(node("reconnect", "strategy", "jitter"), "jitter must be between 0 and 1, got %g", st.Jitter)
	}
	if c.Reconnect.Buffer < 0 {
		p.errorf(node("reconnect", "buffer"), "buffer must not be negative")
	}
	if c.Delivery != "" && !slices.Contains(Deliveries, c.Delivery) {
		p.errorf(node("delivery"), "unknown delivery %q (%s)", c.Delivery, strings.Join(Deliveries, ", "))
	}
	p.library(sc, node)
}

// library checks client.library: options for the drivers of a protocol the
// scenario's servers speak (a key no server speaks would be silently
// ignored by every driver).
func (p *parser) library(sc *Scenario, node func(keys ...string) *yaml.Node) {
	if p.reg.Protocol == nil || len(sc.Client.Library) == 0 {
		return
	}
	var spoken []string
	for _, s := range sc.Servers {
		if pr := p.reg.Protocol(s.Kind); pr != "" && !slices.Contains(spoken, pr) {
			spoken = append(spoken, pr)
		}
	}
	names := make([]string, 0, len(sc.Client.Library))
	for k := range sc.Client.Library {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if !slices.Contains(spoken, k) {
			p.errorf(node("library", k), "client.library.%s: no server of this scenario speaks %s (its servers speak: %s)", k, k, list(spoken))
		}
	}
}
