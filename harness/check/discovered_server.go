package check

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

func init() {
	Register(Spec{Name: "discovered_server", Judges: []string{"T6"}, New: func() Checker { return &DiscoveredServer{} }})
}

// kindAdvertise is a server's advertisement of servers to a connection, in
// the neutral vocabulary (harness/history/EVENTS.md; NATS records it for an
// INFO with connect_urls): Attrs{servers: the scenario names of the
// advertised servers, when the server knew them; addrs: as sent}.
const kindAdvertise = history.KindAdvertise

// DiscoveredServer judges T6: instances added at run time (service
// discovery) join the rotation without a restart, for a client library
// that is no router but learns servers from the server it is connected to
// (a NATS cluster's INFO connect_urls).
//
// Per client: a server it was connected to advertised one it was not given
// (client.servers) on the client's own connection (server advertise with
// Attrs{servers}; the connection is the client's when the session it
// named in CONNECTED_ACTIVE was created on it); then the given servers were
// lost (a loss fault on the link of the given server the client was on,
// and on every other given one, link evidence; the client left
// CONNECTED_ACTIVE). The client must land on an advertised server: its
// next CONNECTED_ACTIVE names it, and that server created the session it
// names (server session.create). OK with the measured advertisement →
// loss → landing. A client that comes back elsewhere, or not at all, is
// FAILED when its contract (term discovery) says it follows advertised
// servers, INFORMATIONAL when it says it ignores them or does not say
// (the advertised servers' accepts are measured). Nothing advertised, or
// no loss of the given servers after it: UNKNOWN. The first such loss of
// each client is judged.
type DiscoveredServer struct{}

// Check implements Checker.
func (c *DiscoveredServer) Check(in Input) Result { return onView(in, c, c.check) }

// discoveryInfo is the informational findings of a check: misses the
// client's contract does not make failures.
type discoveryInfo struct {
	notes []string
	at    time.Duration
}

func (d *discoveryInfo) add(at time.Duration, format string, args ...any) {
	if len(d.notes) == 0 {
		d.at = at
	}
	d.notes = append(d.notes, fmt.Sprintf(format, args...))
}

func (c *DiscoveredServer) check(v *view) Result {
	var j judge
	var info discoveryInfo
	var oks []string
	okAt := time.Duration(0)
	given := v.sc.Client.Servers
	if len(given) == 0 {
		return j.inconclusive(0, "the client was given every server (client.servers is empty): there is no server it could discover")
	}
	for _, cl := range v.clients {
		if ok, at := c.judgeClient(&j, &info, v, cl, given); ok != "" {
			oks = append(oks, ok)
			okAt = max(okAt, at)
		}
	}
	r := j.result(okAt, "%s", list(oks))
	switch {
	case r.Verdict != OK:
		return r
	case len(info.notes) > 0:
		return Result{Verdict: Informational, Measurements: j.ms, Detail: list(info.notes), At: info.at}
	}
	return r
}

// advert is one advertisement to a client: the server's advertise on one
// of the client's connections, and the servers it named that the client
// was not given.
type advert struct {
	e     history.Event
	names []string
}

// judgeClient judges one client into j and info; it returns the client's
// OK finding and its time ("" when it has none).
func (c *DiscoveredServer) judgeClient(j *judge, info *discoveryInfo, v *view, cl int, given []string) (string, time.Duration) {
	who := fmt.Sprintf("client %d", cl)
	pre := ""
	if len(v.clients) > 1 {
		pre = who + ": "
	}
	owned := v.ownConns(cl)
	var ads []advert
	unnamed := 0
	for _, e := range v.h {
		if e.Kind != kindAdvertise || e.Source != history.SrcServer || !owned[connKey(e.Server, e.Conn)] {
			continue
		}
		if e.Attr("servers") == "" {
			if e.Attr("addrs") != "" {
				unnamed++
			}
			continue
		}
		a := advert{e: e}
		for _, n := range strings.Split(e.Attr("servers"), ",") {
			if _, known := v.sc.Server(n); known && !slices.Contains(given, n) {
				a.names = append(a.names, n)
			}
		}
		ads = append(ads, a)
	}
	if len(ads) == 0 {
		why := ""
		if unnamed > 0 {
			why = fmt.Sprintf(" (%d advertisement(s) of addresses but no server names: the server kind does not record which servers it advertised)", unnamed)
		}
		j.unknown(v.end, "no server advertised a server to %s on its connections (server advertise with servers)%s", who, why)
		return "", 0
	}

	// The first loss of a given server the client was on, after an
	// advertisement: the last advertisement before it is what the client
	// knew (a later one replaces the earlier list, as nats.go's
	// updateServerPool() drops implicit servers no longer listed).
	var hit *lossHit
	var ad advert
	for _, h := range v.outages().lossHits() {
		if h.Client != cl || h.Leave == nil || !slices.Contains(given, h.Fault.Link) {
			continue
		}
		last := -1
		for i, a := range ads {
			if a.e.T < h.Fault.began() {
				last = i
			}
		}
		if last < 0 {
			continue
		}
		h := h
		hit, ad = &h, ads[last]
		break
	}
	if hit == nil {
		j.unknown(v.end, "%s never lost a given server after %s advertised %s at %s (no loss fault on the link of the server it was on that made it leave CONNECTED_ACTIVE)",
			who, ads[0].e.Server, ads[0].e.Attr("servers"), dur(ads[0].e.T))
		return "", 0
	}
	if len(ad.names) == 0 {
		j.unknown(hit.Fault.On.T, "the last advertisement to %s before the loss at %s (%s at %s: %s) named no server it was not given",
			who, dur(hit.Fault.On.T), ad.e.Server, dur(ad.e.T), ad.e.Attr("servers"))
		return "", 0
	}
	lost, loss := hit.Fault.Link, hit.Fault.began()

	// Were all the given servers down? Until the first of them is back.
	downUntil := v.end
	var up []string
	for _, g := range given {
		f, ok := v.lossFaultDuring(g, hit.Fault.On.T, hit.Fault.On.T)
		switch {
		case !ok:
			up = append(up, g)
		case f.Off != nil:
			downUntil = min(downUntil, f.Off.T)
		}
	}

	span := func(name string, from, to time.Duration, evidence string) {
		j.ms = append(j.ms, Measurement{Name: pre + name, Value: Ms(to - from), Unit: "ms", Evidence: evidence, Span: &Span{From: from, To: to}})
	}
	adText := fmt.Sprintf("%s advertised %s at %s", ad.e.Server, names(ad.names), dur(ad.e.T))
	span("advertised → loss", ad.e.T, loss, fmt.Sprintf("link fault.on (%s on %s) − server advertise (%s advertised %s on %s)",
		hit.Fault.Verb, lost, ad.e.Server, names(ad.names), ad.e.Conn))

	land, landed := v.client().activeAfter(cl, hit.Leave.T)
	to := v.end
	if landed {
		to = land.T
	}
	tries := 0
	for _, e := range v.h {
		if e.Kind == history.KindAccept && e.T >= loss && e.T <= to+v.slack && slices.Contains(ad.names, e.Server) {
			tries++
		}
	}
	j.count(pre+"advertised server accepts", tries, fmt.Sprintf("server accept on %s between the loss and the landing", names(ad.names)))

	if landed && slices.Contains(ad.names, land.Server) {
		create, problem := v.createdAs(land, loss)
		if problem != "" {
			j.fail(land.T, "%s", problem)
			return "", 0
		}
		span("loss → landing on "+land.Server, loss, create.T,
			fmt.Sprintf("server session.create on %s − link fault.on (%s on %s)", land.Server, hit.Fault.Verb, lost))
		if ct := v.client().contract(cl, loss); ct.Value(termDiscovery) == "ignore" {
			j.note("%s used the advertised %s although its contract says %s", who, land.Server, saysDiscovery(ct))
		}
		return fmt.Sprintf("%s; %s lost %s at %s and landed on the advertised %s at %s (session %s created by %s at %s)",
			adText, who, lost, dur(loss), land.Server, dur(land.T), land.Session, create.Server, dur(create.T)), create.T
	}

	// It did not land on an advertised server.
	var miss string
	switch {
	case !landed:
		miss = fmt.Sprintf("%s lost %s at %s and never came back (%s), never on the advertised %s",
			who, lost, dur(loss), v.client().lastStateText(cl), names(ad.names))
	default:
		span("loss → landing on "+land.Server, loss, land.T, fmt.Sprintf("client CONNECTED_ACTIVE on %s − link fault.on (%s on %s)", land.Server, hit.Fault.Verb, lost))
		miss = fmt.Sprintf("%s lost %s at %s and came back on %s at %s, not on the advertised %s",
			who, lost, dur(loss), land.Server, dur(land.T), names(ad.names))
	}
	miss += fmt.Sprintf(" (%s; %d connection attempts reached %s after the loss", adText, tries, names(ad.names))
	if len(up) == 0 {
		span("given servers down", loss, downUntil, fmt.Sprintf("link fault.off − fault.on (the given %s)", names(given)))
		were := "were"
		if len(given) == 1 {
			were = "was"
		}
		miss += fmt.Sprintf("; the given %s %s down until %s)", names(given), were, dur(downUntil))
	} else {
		miss += ")"
		j.unknown(to, "%s: the given %s stayed up, so the loss did not leave the advertised servers as the only way back", miss, names(up))
		return "", 0
	}
	at := to
	if !landed {
		at = downUntil
	}
	ct := v.client().contract(cl, loss)
	switch ct.Value(termDiscovery) {
	case "follow":
		j.fail(at, "%s, although its contract says it follows advertised servers: %s", miss, saysDiscovery(ct))
	case "ignore":
		info.add(at, "%s, as its contract says: %s", miss, saysDiscovery(ct))
	default:
		info.add(at, "%s; its contract does not say whether it follows advertised servers (%s)", miss, saysDiscovery(ct))
	}
	return "", 0
}

// ownConns are the server connections client cl was on: those on which the
// sessions it named in CONNECTED_ACTIVE were created, by the server it
// named (server session.create).
func (v *view) ownConns(cl int) map[string]bool {
	out := map[string]bool{}
	for _, e := range v.states[cl] {
		if e.To != driver.ConnectedActive || e.Session == "" {
			continue
		}
		for _, s := range v.bySess[e.Session] {
			if s.Kind == history.KindSessionCreate && s.Server == e.Server && s.Conn != "" {
				out[connKey(s.Server, s.Conn)] = true
			}
		}
	}
	return out
}

// createdAs is the server's session.create of the session a
// CONNECTED_ACTIVE names, on the server it names, after from; or why the
// claim does not hold.
func (v *view) createdAs(st history.Event, from time.Duration) (history.Event, string) {
	if st.Session == "" {
		return history.Event{}, fmt.Sprintf("client %d reported CONNECTED_ACTIVE on %s at %s without a session id", st.Client, st.Server, dur(st.T))
	}
	for _, s := range v.bySess[st.Session] {
		if s.Kind != history.KindSessionCreate {
			continue
		}
		switch {
		case s.Server != st.Server:
			return s, fmt.Sprintf("client %d reported CONNECTED_ACTIVE on %s (session %q) at %s, but that session was created by %s", st.Client, st.Server, st.Session, dur(st.T), s.Server)
		case s.T > st.T+v.slack:
			return s, fmt.Sprintf("client %d reported CONNECTED_ACTIVE on %s (session %q) at %s, before the server created it at %s", st.Client, st.Server, st.Session, dur(st.T), dur(s.T))
		case s.T < from-v.slack:
			return s, fmt.Sprintf("client %d's session %q on %s was created at %s, before the loss at %s: not a new connection", st.Client, st.Session, st.Server, dur(s.T), dur(from))
		}
		return s, ""
	}
	return history.Event{}, fmt.Sprintf("client claims a session the servers never created: client %d reported CONNECTED_ACTIVE on %s (session %q) at %s, but no server recorded session.create of it",
		st.Client, st.Server, st.Session, dur(st.T))
}

// saysDiscovery renders the contract's discovery term for a detail (a
// client without a contract declares nothing).
func saysDiscovery(ct *Contract) string {
	if ct == nil {
		return termDiscovery + ": not declared (the driver gave no contract)"
	}
	return ct.Says(termDiscovery)
}

// names renders server names for a detail: "s2", "s2, s3".
func names(ns []string) string { return strings.Join(ns, ", ") }
