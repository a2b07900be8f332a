package scenario

import (
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// stepKeys maps each fixed step key to the kind of step it belongs to (""
// for every kind). A link step's other keys are its fault verb's attributes.
var stepKeys = map[string]string{
	"at":     "",
	"client": "client", "only": "client",
	"server": "server", "publish": "server", "close": "server", "kill": "server", "restart": "server",
	"link": "link", "fault": "link", "for": "link", "direction": "link",
}

var (
	stepKinds  = []string{"client", "server", "link"}
	clientOps  = []string{"connect", "close", "subscribe", "send"}
	directions = []string{DirBoth, DirUpstream, DirDownstream}
)

// keysOf lists the step keys a kind of step may have, for did-you-mean.
func keysOf(kind string) []string {
	var out []string
	for k, owner := range stepKeys {
		if owner == "" || owner == kind {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func (p *parser) steps(sc *Scenario, kv pair) {
	seq := deref(kv.val)
	if seq.Kind != yaml.SequenceNode {
		p.errorf(kv.val, "expected a list for steps, got %s", describe(seq))
		return
	}
	for _, item := range seq.Content {
		n := deref(item)
		if n.Kind != yaml.MappingNode {
			p.errorf(item, "a step is a mapping like {at: 0s, client: connect}, got %s", describe(n))
			continue
		}
		sc.Steps = append(sc.Steps, p.step(sc, n))
	}
	// Stable: steps at the same offset run in file order.
	sort.SliceStable(sc.Steps, func(i, j int) bool { return sc.Steps[i].At < sc.Steps[j].At })
}

// step decodes one timeline entry: exactly one of a client op, a server
// action or a link fault.
func (p *parser) step(sc *Scenario, n *yaml.Node) Step {
	st := Step{Pos: p.pos(n)}
	pairs := p.pairs(n)
	byKey := map[string]pair{}
	var kinds []pair
	for _, kv := range pairs {
		byKey[kv.name] = kv
		if slices.Contains(stepKinds, kv.name) {
			kinds = append(kinds, kv)
		}
	}
	if kv, ok := byKey["at"]; ok {
		p.value(kv.val, reflect.ValueOf(&st.At).Elem(), "at", "json")
	} else {
		p.errorf(n, "step needs at (its offset from the start, e.g. at: 0s)")
	}
	switch len(kinds) {
	case 0:
		// A misspelt kind ({clinet: connect}) is the likely cause: say so
		// at the key rather than only that the kind is missing.
		for _, kv := range pairs {
			if _, known := stepKeys[kv.name]; !known && didYouMean(kv.name, stepKinds) != "" {
				p.unknownKey(kv.key, kv.name, "step", stepKinds)
				return st
			}
		}
		p.errorf(n, "step needs one of client, server or link")
		return st
	case 1:
	default:
		p.errorf(kinds[1].key, "step has both %s and %s: a step is exactly one of client, server or link",
			kinds[0].name, kinds[1].name)
		return st
	}
	kind := kinds[0].name
	var attrs []pair // a link step's keys that are not its own
	for _, kv := range pairs {
		owner, known := stepKeys[kv.name]
		switch {
		case known && (owner == "" || owner == kind):
		case kind == "link", kind == "server" && !known:
			attrs = append(attrs, kv) // a verb's attributes; a server kind's own action
		case known:
			p.errorf(kv.key, "key %q belongs in %s steps, not %s steps", kv.name, owner, kind)
		default:
			p.unknownKey(kv.key, kv.name, kind+" step", keysOf(kind))
		}
	}
	switch kind {
	case "client":
		p.clientStep(sc, &st, byKey)
	case "server":
		p.serverStep(sc, &st, byKey, attrs)
	case "link":
		p.linkStep(sc, &st, byKey, attrs, n)
	case "discovery":
		p.discoveryStep(sc, &st, byKey)
	}
	return st
}

// ref decodes a server name that must be declared (a step's server or link).
func (p *parser) ref(sc *Scenario, kv pair, out *string, what string) {
	done := p.mark()
	p.value(kv.val, reflect.ValueOf(out).Elem(), what, "json")
	if done() {
		p.serverRef(sc, kv.val, *out, what)
	}
}

// boolTrue decodes a flag whose only meaningful value is true.
func (p *parser) boolTrue(kv pair, out *bool, path string) {
	done := p.mark()
	p.value(kv.val, reflect.ValueOf(out).Elem(), path, "json")
	if done() && !*out {
		p.errorf(kv.val, "%s: false does nothing; remove it", path)
	}
}

func (p *parser) clientStep(sc *Scenario, st *Step, byKey map[string]pair) {
	cs := &ClientStep{}
	st.Client = cs
	p.clientOp(cs, byKey["client"].val)
	p.routingClientStep(sc, st, byKey)
	if kv, ok := byKey["only"]; ok {
		p.only(sc, cs, kv)
	}
}

func (p *parser) clientOp(cs *ClientStep, val *yaml.Node) {
	n := deref(val)
	switch {
	case isNull(n):
		p.errorf(val, "no value for client (connect, close, {subscribe: topic} or {send: {...}})")
	case n.Kind == yaml.ScalarNode:
		switch n.Value {
		case "connect", "close":
			cs.Op = n.Value
		case "subscribe", "send", "edge", "request":
			p.errorf(val, "client %s needs its argument: {%s: ...}", n.Value, n.Value)
		case "cancel":
			p.errorf(val, "client cancel is written {cancel: true}")
		default:
			p.errorf(val, "unknown client op %q%s", n.Value, suggest(n.Value, "ops", clientOps))
		}
	case n.Kind == yaml.MappingNode:
		var ops []pair
		for _, kv := range p.pairs(n) {
			if kv.name == "only" {
				p.errorf(kv.key, "only goes at step level: {at: ..., client: ..., only: [0]}")
				continue
			}
			ops = append(ops, kv)
		}
		if len(ops) == 0 {
			p.errorf(val, "client op is empty (connect, close, subscribe, send)")
			return
		}
		for _, extra := range ops[1:] {
			p.errorf(extra.key, "client step has more than one op (%s and %s): use one step each", ops[0].name, extra.name)
		}
		p.clientArgs(cs, ops[0])
	default:
		p.errorf(val, "expected a client op for client (connect, close, {subscribe: topic} or {send: {...}}), got %s", describe(n))
	}
}

// sendArgs is the send op's mapping.
type sendArgs struct {
	Count       int              `yaml:"count"`
	Every       time.Duration    `yaml:"every"`
	Payload     string           `yaml:"payload"`
	sendRouting `yaml:",inline"` // routing.go
}

func (p *parser) clientArgs(cs *ClientStep, op pair) {
	switch op.name {
	case "connect", "close":
		var b bool
		p.boolTrue(op, &b, "client."+op.name)
		cs.Op = op.name
	case "edge":
		p.edgeOp(cs, op)
	case "request", "cancel":
		p.requestOp(cs, op) // migration.go
	case "subscribe":
		done := p.mark()
		p.value(op.val, reflect.ValueOf(&cs.Topic).Elem(), "client.subscribe", "json")
		if done() && cs.Topic == "" {
			p.errorf(op.val, "subscribe needs a topic")
		}
		cs.Op = op.name
	case "send":
		args := sendArgs{Count: 1}
		done := p.mark()
		p.mapping(op.val, reflect.ValueOf(&args).Elem(), "send", "client.send", "yaml")
		if done() && args.Count < 1 {
			p.errorf(lookup(op.val, "count"), "send count must be at least 1, got %d", args.Count)
		}
		cs.Op, cs.Count, cs.Every, cs.Payload = op.name, args.Count, args.Every, args.Payload
		cs.Edge, cs.Chunks, cs.ChunkEvery, cs.Size = args.Edge, args.Chunks, args.ChunkEvery, int(args.Size)
	default:
		p.errorf(op.key, "unknown client op %q%s", op.name, suggest(op.name, "ops", clientOps))
	}
}

// only restricts a client op to some client indices.
func (p *parser) only(sc *Scenario, cs *ClientStep, kv pair) {
	done := p.mark()
	p.value(kv.val, reflect.ValueOf(&cs.Only).Elem(), "only", "json")
	if !done() {
		return
	}
	items := deref(kv.val).Content
	if len(items) == 0 {
		p.errorf(kv.val, "only is empty (omit it to mean every client)")
	}
	seen := map[int]bool{}
	for i, idx := range cs.Only {
		switch {
		case sc.Clients < 1: // clients is bad and reported; nothing to compare with
		case idx < 0 || idx >= sc.Clients:
			p.errorf(items[i], "only: client index %d is out of range (clients: %d)", idx, sc.Clients)
		case seen[idx]:
			p.errorf(items[i], "only: client index %d is listed twice", idx)
		}
		seen[idx] = true
	}
}

// serverActions are a server step's actions; a step has exactly one.
var serverActions = []string{"publish", "close", "kill", "restart"}

func (p *parser) serverStep(sc *Scenario, st *Step, byKey map[string]pair, own []pair) {
	kv := byKey["server"]
	p.ref(sc, kv, &st.Server, "server")
	kind, declared := "", false
	if s, ok := sc.Server(st.Server); ok {
		kind, declared = s.Kind, true
	}
	names := append(append([]string(nil), serverActions...), p.reg.Actions(kind)...)
	var acts []pair
	for _, a := range serverActions {
		if v, ok := byKey[a]; ok {
			acts = append(acts, v)
		}
	}
	for _, a := range own {
		if !declared { // the server is unknown (said above): so is its kind
			acts = append(acts, a)
			continue
		}
		if _, ok := p.reg.Action(kind, a.name); !ok {
			p.unknownKey(a.key, a.name, "server step (server kind "+strconv.Quote(kind)+")", append(names, keysOf("server")...))
			continue
		}
		acts = append(acts, a)
	}
	sort.SliceStable(acts, func(i, j int) bool { return before(acts[i].key, acts[j].key) })
	switch {
	case len(acts) > 1:
		p.errorf(acts[1].key, "server step has both %s and %s: use one step each", acts[0].name, acts[1].name)
		return
	case len(acts) == 0:
		p.errorf(kv.key, "server step needs %s or %s", strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
		return
	}
	if !slices.Contains(serverActions, acts[0].name) {
		if declared {
			p.kindAction(st, kind, acts[0])
		}
		return
	}
	if m, ok := byKey["migrate"]; ok {
		p.migrateStep(sc, st, m) // migration.go
	}
	if pub, ok := byKey["publish"]; ok {
		st.Publish = &Publish{Count: 1}
		done := p.mark()
		p.mapping(pub.val, reflect.ValueOf(st.Publish).Elem(), "publish", "publish", "json")
		if done() {
			if st.Publish.Topic == "" {
				p.errorf(or(lookup(pub.val, "topic"), pub.val), "publish needs a topic")
			}
			if st.Publish.Count < 1 {
				p.errorf(lookup(pub.val, "count"), "publish count must be at least 1, got %d", st.Publish.Count)
			}
		}
	}
	if cl, ok := byKey["close"]; ok {
		p.boolTrue(cl, &st.Close, "close")
	}
	// kill and restart are process faults: the server goes down with
	// everything it held, and comes back fresh on the same address.
	if k, ok := byKey["kill"]; ok {
		p.boolTrue(k, &st.Kill, "kill")
	}
	if r, ok := byKey["restart"]; ok {
		p.boolTrue(r, &st.Restart, "restart")
	}
}

// kindAction decodes a server kind's own action: a flag (`name: true`) or
// its attributes mapping.
func (p *parser) kindAction(st *Step, kind string, a pair) {
	args, _ := p.reg.Action(kind, a.name)
	st.Action = a.name
	if args == nil {
		var b bool
		p.boolTrue(a, &b, a.name)
		return
	}
	n := deref(a.val)
	if n.Kind != yaml.MappingNode {
		p.errorf(a.val, "%s takes a mapping of its attributes, got %s", a.name, describe(n))
		return
	}
	p.config(p.pairs(n), args, a.val, a.name, a.name, nil)
	st.ActionArgs = args
}

func before(a, b *yaml.Node) bool {
	return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
}

func (p *parser) linkStep(sc *Scenario, st *Step, byKey map[string]pair, attrs []pair, n *yaml.Node) {
	kv := byKey["link"]
	p.ref(sc, kv, &st.Link, "link")
	if d, ok := byKey["for"]; ok {
		p.value(d.val, reflect.ValueOf(&st.For).Elem(), "for", "json")
	}
	if d, ok := byKey["direction"]; ok {
		done := p.mark()
		p.value(d.val, reflect.ValueOf(&st.Direction).Elem(), "direction", "json")
		if done() && !slices.Contains(directions, st.Direction) {
			p.errorf(d.val, "unknown direction %q (both, upstream, downstream)", st.Direction)
		}
	} else {
		st.Direction = DirBoth
	}
	f, ok := byKey["fault"]
	if !ok {
		p.errorf(kv.key, "link step needs fault (a fault verb, or heal)")
		return
	}
	done := p.mark()
	p.value(f.val, reflect.ValueOf(&st.Fault).Elem(), "fault", "json")
	if !done() {
		return
	}
	if st.Fault == "heal" {
		p.heal(st, byKey, attrs)
		return
	}
	target, ok := p.reg.Fault(st.Fault)
	if !ok {
		var verbs []string // heal ends faults: a valid value, when verbs are known at all
		if len(p.reg.Verbs) > 0 {
			verbs = append([]string{"heal"}, p.reg.Verbs...)
		}
		p.errorf(f.val, "unknown fault %q%s", st.Fault, suggest(st.Fault, "faults", verbs))
		return
	}
	st.FaultArgs = target
	// A client or server step key here is a misplaced key, unless the verb
	// happens to have an attribute of that name.
	var has []string
	if v := reflect.ValueOf(target); v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
		for _, f := range fieldsOf(v.Elem().Type(), "yaml") {
			has = append(has, f.name)
		}
	}
	var own []pair
	for _, a := range attrs {
		if owner, known := stepKeys[a.name]; known && !slices.Contains(has, a.name) {
			p.errorf(a.key, "key %q belongs in %s steps, not link steps", a.name, owner)
			continue
		}
		own = append(own, a)
	}
	p.config(own, target, n, "fault "+st.Fault, "fault "+st.Fault, keysOf("link"))
}

// heal ends every fault on the link at once: it takes nothing else.
func (p *parser) heal(st *Step, byKey map[string]pair, attrs []pair) {
	st.Direction = ""
	for _, k := range []string{"for", "direction"} {
		if kv, ok := byKey[k]; ok {
			p.errorf(kv.key, "heal takes no %s: it ends every fault on the link", k)
		}
	}
	for _, a := range attrs {
		if owner, known := stepKeys[a.name]; known {
			p.errorf(a.key, "key %q belongs in %s steps, not link steps", a.name, owner)
		} else {
			p.errorf(a.key, "heal takes no attributes, got %q", a.name)
		}
	}
}

// config decodes entries into a registry-supplied struct (a checker's params
// or a verb's attrs) by its yaml tags, then lets it validate itself; its
// error is reported at the entry (at), prefixed with label.
func (p *parser) config(pairs []pair, target any, at *yaml.Node, where, label string, extra []string) {
	v := reflect.ValueOf(target)
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		p.errorf(at, "%s: the registry gave %T, want a pointer to its config struct", label, target)
		return
	}
	done := p.mark()
	p.rest(pairs, v.Elem(), "", where, "yaml", extra)
	if !done() {
		return
	}
	if val, ok := target.(validator); ok {
		if err := val.Validate(); err != nil {
			p.errorf(at, "%s: %v", label, err)
		}
	}
}
