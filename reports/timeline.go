package reports

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/history"
)

// Timeline geometry (SVG user units = CSS px).
const (
	tlWidth        = 1100.0
	tlPlotX        = 150.0 // lane labels live left of it
	tlTop          = 36.0  // room for the checks' labels
	rowH           = 16.0  // one sub-row of a lane: room for 11px text
	charW          = 6.6   // the width of a character of 11px text, about
	laneGap        = 8.0
	maxRows        = 6    // sub-rows per lane before spans overlap
	maxClientLanes = 8    // clients drawn; the rest are counted
	maxTicks       = 6000 // ticks per timeline, for the page's size
	maxWindows     = 24   // windows drawn per check: more only stack into one colour
)

type tlLane struct {
	Y, H, LabelY float64
	Label, Tip   string
	Class        string
}

type tlSpan struct {
	X, Y, W, H   float64
	Class, Label string
	LabelX       float64
	LabelY       float64
	Tip          string
}

type tlTick struct {
	X, Y1, Y2 float64
	Class     string
	Tip       string
}

type tlMark struct {
	X, Y1, Y2, LabelY float64
	Class, Label, Tip string
	LabelClass        string // the worst verdict among the marks it labels
	verdict           string
}

type tlWindow struct {
	X, Y, W, H float64
	Tip        string
}

type tlAxisTick struct {
	X     float64
	Label string
}

// timeline is one scenario's SVG timeline, laid out.
type timeline struct {
	W, H          float64
	PlotX, PlotX2 float64
	AxisY         float64
	Axis          []tlAxisTick
	Lanes         []tlLane
	Windows       []tlWindow
	Spans         []tlSpan
	Ticks         []tlTick
	SpanPaths     []tlPath // spans past the tooltip budget, one path per class
	TickPaths     []tlPath // ticks past the tooltip budget, one path per class
	Marks         []tlMark
	Notes         []string
	end           time.Duration // the time at PlotX2 (layout.x)
}

// layout turns times into x and keeps the lanes' running y.
type layout struct {
	end   time.Duration
	y     float64
	tl    *timeline
	ticks int
}

func (l *layout) x(t time.Duration) float64 {
	if l.end <= 0 {
		return tlPlotX
	}
	f := float64(t) / float64(l.end)
	f = min(max(f, 0), 1)
	return tlPlotX + f*(tlWidth-tlPlotX-10)
}

// lane adds a lane of rows sub-rows and returns its top y.
func (l *layout) lane(label, tip, class string, rows int) float64 {
	rows = max(rows, 1)
	h := float64(rows) * rowH
	top := l.y
	l.tl.Lanes = append(l.tl.Lanes, tlLane{Y: top - 2, H: h + 4, LabelY: top + h/2 + 4, Label: clip(label, 20), Tip: tip, Class: class})
	l.y += h + laneGap
	return top
}

func (l *layout) span(top float64, row int, from, to time.Duration, class, label, tip string) {
	x1, x2 := l.x(from), l.x(to)
	w := max(x2-x1, 1.5)
	s := tlSpan{X: x1, Y: top + float64(row)*rowH + 1, W: w, H: rowH - 2, Class: class, Tip: tip}
	// The word where it fits, else the class's code (the legend's letters),
	// so a span is read by more than its colour.
	for _, text := range []string{label, spanCode(class)} {
		if text != "" && float64(len([]rune(text)))*charW+6 <= w {
			s.Label, s.LabelX, s.LabelY = text, x1+3, s.Y+rowH-6
			break
		}
	}
	l.tl.Spans = append(l.tl.Spans, s)
}

func (l *layout) tick(top, h float64, t time.Duration, class, tip string) {
	if l.ticks >= maxTicks {
		return
	}
	l.ticks++
	x := l.x(t)
	l.tl.Ticks = append(l.tl.Ticks, tlTick{X: x, Y1: top, Y2: top + h, Class: class, Tip: tip})
}

// buildTimeline lays out a scenario's history and its results' marks.
func buildTimeline(sc Scenario, results []Result) timeline {
	tl := &timeline{W: tlWidth, PlotX: tlPlotX, PlotX2: tlWidth - 10}
	l := &layout{y: tlTop, tl: tl}
	for _, e := range sc.History {
		l.end = max(l.end, e.T)
	}
	for _, r := range results {
		l.end = max(l.end, time.Duration(r.AtMS*float64(time.Millisecond)))
	}
	l.end = max(l.end, spanEnd(results))
	l.end += l.end / 50 // a margin, so the last event is not on the edge
	l.clientLanes(sc.History)
	l.serverLanes(sc.History)
	l.linkLanes(sc.History)
	l.stepLane(sc.History)
	l.marks(results)
	labelMarks(tl.Marks)
	budgetTips(tl)
	tl.end = l.end
	tl.AxisY = l.y + 4
	tl.H = l.y + 24
	tl.Axis = axisTicks(l)
	if l.ticks >= maxTicks {
		tl.Notes = append(tl.Notes, fmt.Sprintf("only the first %d ticks are drawn", maxTicks))
	}
	return *tl
}

func axisTicks(l *layout) []tlAxisTick {
	steps := []time.Duration{time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond,
		20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond,
		500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 20 * time.Second,
		30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if l.end/s <= 10 {
			step = s
			break
		}
	}
	var out []tlAxisTick
	for t := time.Duration(0); t <= l.end; t += step {
		out = append(out, tlAxisTick{X: l.x(t), Label: t.String()})
	}
	return out
}

// stateClass is the CSS class of a session state; names an SDK made up get
// one class, never a class of their own.
func stateClass(s string) string {
	switch s {
	case driver.Connecting:
		return "st-connecting"
	case driver.ConnectedActive:
		return "st-active"
	case driver.RecoveringReconnect:
		return "st-recovering"
	case driver.ClosedByClient:
		return "st-closed-client"
	case driver.ClosedByServer:
		return "st-closed-server"
	case driver.ClosedFailed:
		return "st-closed-failed"
	}
	return "st-other"
}

func stateLabel(s string) string {
	switch s {
	case driver.Connecting:
		return "connecting"
	case driver.ConnectedActive:
		return "active"
	case driver.RecoveringReconnect:
		return "recovering"
	case driver.ClosedByClient, driver.ClosedByServer, driver.ClosedFailed:
		return "closed"
	}
	return clip(s, 20)
}

func ms(t time.Duration) string { return fmt.Sprintf("%.1fms", float64(t)/float64(time.Millisecond)) }

// clientLanes: per client, its reported states as spans and its ops as ticks.
func (l *layout) clientLanes(h history.History) {
	clients := map[int]bool{}
	for _, e := range h {
		if e.Source == history.SrcClient || e.Kind == history.KindOp {
			clients[e.Client] = true
		}
	}
	ids := make([]int, 0, len(clients))
	for c := range clients {
		ids = append(ids, c)
	}
	sort.Ints(ids)
	if len(ids) > maxClientLanes {
		l.tl.Notes = append(l.tl.Notes, fmt.Sprintf("%d clients: the first %d are drawn", len(ids), maxClientLanes))
		ids = ids[:maxClientLanes]
	}
	for _, c := range ids {
		top := l.lane(fmt.Sprintf("client %d", c), "states the client reported; ticks: ops sent", "lane-client", 1)
		var cur *history.Event
		flush := func(until time.Duration) {
			if cur == nil {
				return
			}
			tip := fmt.Sprintf("client %d %s %s–%s", c, cur.To, ms(cur.T), ms(until))
			if cur.Server != "" {
				tip += " on " + cur.Server
			}
			if cur.Session != "" {
				tip += " session " + cur.Session
			}
			if cur.Reason != "" {
				tip += " (" + cur.Reason + ")"
			}
			l.span(top, 0, cur.T, until, stateClass(cur.To), stateLabel(cur.To), tip)
		}
		for i := range h {
			e := &h[i]
			switch {
			case e.Source == history.SrcClient && e.Kind == history.KindState && e.Client == c:
				flush(e.T)
				cur = e
			case e.Kind == history.KindOp && e.Client == c:
				l.tick(top-2, 4, e.T, "tk-op", fmt.Sprintf("op #%s %s %s at %s", e.Attr("id"), e.Op, e.Topic, ms(e.T)))
			case e.Kind == history.KindReply && e.Client == c && !e.OK:
				l.tick(top-2, 4, e.T, "tk-bad", fmt.Sprintf("op #%s %s refused at %s: %s", e.Attr("id"), e.Op, ms(e.T), e.Reason))
			case e.Source == history.SrcClient && e.Kind == history.KindError && e.Client == c:
				l.tick(top+rowH-4, 4, e.T, "tk-bad", fmt.Sprintf("client error at %s: %s", ms(e.T), e.Reason))
			}
		}
		flush(l.end)
	}
}

// segment is one span of a session or a fault, before rows are assigned.
type segment struct {
	key        string // session id or fault id: one row per key
	from, to   time.Duration
	class, tip string
	label      string
}

// pack assigns each key a row so that keys whose lifetimes overlap get
// different rows (greedy, by first appearance), at most maxRows.
func pack(segs []segment) (map[string]int, int) {
	type life struct{ from, to time.Duration }
	lives := map[string]*life{}
	var order []string
	for _, s := range segs {
		lf, ok := lives[s.key]
		if !ok {
			lives[s.key] = &life{s.from, s.to}
			order = append(order, s.key)
			continue
		}
		lf.from, lf.to = min(lf.from, s.from), max(lf.to, s.to)
	}
	sort.SliceStable(order, func(i, j int) bool { return lives[order[i]].from < lives[order[j]].from })
	rows := map[string]int{}
	var ends []time.Duration
	for i, k := range order {
		lf := lives[k]
		row := -1
		for r, end := range ends {
			if end <= lf.from {
				row = r
				break
			}
		}
		switch {
		case row >= 0:
			ends[row] = lf.to
		case len(ends) < maxRows:
			row = len(ends)
			ends = append(ends, lf.to)
		default:
			row = i % maxRows // crowded: overlap
			ends[row] = max(ends[row], lf.to)
		}
		rows[k] = row
	}
	return rows, max(len(ends), 1)
}

// serverLanes: per server, each session live (create/resume → disconnect or
// end) and retained (disconnect → resume/expire/close/lost); accepts and
// refusals as ticks; process kills as spans.
func (l *layout) serverLanes(h history.History) {
	var names []string
	seen := map[string]bool{}
	for _, e := range h {
		if e.Source == history.SrcServer && e.Server != "" && !seen[e.Server] {
			seen[e.Server] = true
			names = append(names, e.Server)
		}
	}
	sort.Strings(names)
	for _, srv := range names {
		type open struct {
			from  time.Duration
			class string
			how   string
		}
		cur := map[string]*open{}
		var segs []segment
		end := func(sess string, t time.Duration, why string) {
			if o := cur[sess]; o != nil {
				segs = append(segs, segment{key: sess, from: o.from, to: t, class: o.class,
					label: strings.TrimPrefix(o.class, "ss-"),
					tip:   fmt.Sprintf("%s session %s %s %s–%s (%s → %s)", srv, sess, strings.TrimPrefix(o.class, "ss-"), ms(o.from), ms(t), o.how, why)})
				delete(cur, sess)
			}
		}
		var downFrom *time.Duration
		var ticks []history.Event
		for _, e := range h {
			if e.Source != history.SrcServer || e.Server != srv {
				continue
			}
			switch e.Kind {
			case history.KindSessionCreate:
				end(e.Session, e.T, "create")
				cur[e.Session] = &open{e.T, "ss-live", "create on " + e.Conn}
			case history.KindSessionResume:
				end(e.Session, e.T, "resume")
				cur[e.Session] = &open{e.T, "ss-live", "resume on " + e.Conn}
			case history.KindSessionDisconn:
				end(e.Session, e.T, "disconnect "+e.Reason)
				cur[e.Session] = &open{e.T, "ss-retained", "disconnect " + e.Reason}
			case history.KindSessionExpire, history.KindSessionClose, history.KindSessionLost:
				end(e.Session, e.T, strings.TrimPrefix(e.Kind, "session.")+" "+e.Reason)
			case history.KindKill:
				t := e.T
				downFrom = &t
			case history.KindRestart:
				if downFrom != nil {
					segs = append(segs, segment{key: "\x00process", from: *downFrom, to: e.T, class: "sv-down", label: "down",
						tip: fmt.Sprintf("%s process down %s–%s", srv, ms(*downFrom), ms(e.T))})
					downFrom = nil
				}
			case history.KindAccept, history.KindSessionUnknown:
				ticks = append(ticks, e)
			case history.KindHandshake:
				if !e.OK {
					ticks = append(ticks, e)
				}
			}
		}
		for _, sess := range sortedKeys(cur) { // in order: the page is the same each time
			end(sess, l.end, "run end")
		}
		if downFrom != nil {
			segs = append(segs, segment{key: "\x00process", from: *downFrom, to: l.end, class: "sv-down", label: "down",
				tip: fmt.Sprintf("%s process down from %s", srv, ms(*downFrom))})
		}
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].from < segs[j].from })
		rows, n := pack(segs)
		top := l.lane("server "+srv, "sessions as the server saw them; ticks: accepted connections (grey), refusals (red)", "lane-server", n)
		for _, s := range segs {
			l.span(top, rows[s.key], s.from, s.to, s.class, s.label, s.tip)
		}
		for _, e := range ticks {
			switch e.Kind {
			case history.KindAccept:
				l.tick(top-2, float64(n)*rowH+4, e.T, "tk-accept", fmt.Sprintf("accept %s at %s", e.Conn, ms(e.T)))
			case history.KindSessionUnknown:
				l.tick(top-2, float64(n)*rowH+4, e.T, "tk-bad", fmt.Sprintf("unknown session %s at %s", e.Session, ms(e.T)))
			default:
				l.tick(top-2, float64(n)*rowH+4, e.T, "tk-bad", fmt.Sprintf("handshake refused on %s at %s: %s", e.Conn, ms(e.T), e.Reason))
			}
		}
	}
}

// faultVerbs have a colour each; other verbs share one.
var faultVerbs = map[string]bool{"cut": true, "reset": true, "blackhole": true, "slow": true, "throttle": true,
	"slice": true, "limit": true, "down": true}

// linkLanes: per link, each fault from fault.on to fault.off (matched by
// its id attribute).
func (l *layout) linkLanes(h history.History) {
	var names []string
	seen := map[string]bool{}
	for _, e := range h {
		if e.Source == history.SrcLink && e.Link != "" && !seen[e.Link] {
			seen[e.Link] = true
			names = append(names, e.Link)
		}
	}
	sort.Strings(names)
	for _, link := range names {
		open := map[string]history.Event{}
		var segs []segment
		n := 0
		add := func(on history.Event, to time.Duration, key string) {
			class := "ft-other"
			if faultVerbs[on.Verb] {
				class = "ft-" + on.Verb
			}
			dir := on.Attr("direction")
			tip := fmt.Sprintf("link %s %s %s–%s", link, on.Verb, ms(on.T), ms(to))
			if dir != "" {
				tip += " direction " + dir
			}
			segs = append(segs, segment{key: key, from: on.T, to: to, class: class, label: on.Verb, tip: tip})
		}
		var ticks []history.Event
		for _, e := range h {
			if e.Source != history.SrcLink || e.Link != link {
				continue
			}
			id := e.Attr("id")
			switch e.Kind {
			case history.KindLinkAccept, history.KindLinkDialFail, history.KindLinkDead:
				ticks = append(ticks, e)
			case history.KindFaultOn:
				if id == "" {
					n++
					id = fmt.Sprintf("\x00%d", n)
				}
				open[id] = e
			case history.KindFaultOff:
				if on, ok := open[id]; ok {
					add(on, e.T, id)
					delete(open, id)
				} else if id == "" || id == "all" { // a heal of everything
					for _, k := range sortedKeys(open) {
						add(open[k], e.T, k)
						delete(open, k)
					}
				}
			}
		}
		for _, k := range sortedKeys(open) {
			add(open[k], l.end, k)
		}
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].from < segs[j].from })
		rows, nrows := pack(segs)
		top := l.lane("link "+link, "faults on the link; ticks: client connections it took (grey), dials to its server that failed and the link's own failure (red)", "lane-link", nrows)
		for _, s := range segs {
			l.span(top, rows[s.key], s.from, s.to, s.class, s.label, s.tip)
		}
		for _, e := range ticks {
			class, tip := "tk-accept", fmt.Sprintf("link took %s at %s", e.Conn, ms(e.T))
			switch e.Kind {
			case history.KindLinkDialFail:
				class, tip = "tk-bad", fmt.Sprintf("dial to the server failed for %s at %s: %s", e.Conn, ms(e.T), e.Reason)
			case history.KindLinkDead:
				class, tip = "tk-bad", fmt.Sprintf("the link stopped taking connections at %s: %s", ms(e.T), e.Reason)
			}
			l.tick(top-2, float64(nrows)*rowH+4, e.T, class, tip)
		}
	}
}

// stepLane: the scenario's timeline steps as ticks, and the harness's
// problems (a driver that failed, a fault that could not be applied) in red.
func (l *layout) stepLane(h history.History) {
	top := -1.0
	for _, e := range h {
		step := e.Kind == history.KindStep
		problem := e.Source == history.SrcHarness && (e.Kind == history.KindError || e.Kind == history.KindEvidenceLost)
		if !step && !problem {
			continue
		}
		if top < 0 {
			top = l.lane("steps", "the scenario's timeline steps as fired; red: the harness's problems", "lane-steps", 1)
		}
		if step {
			l.tick(top, rowH, e.T, "tk-step", fmt.Sprintf("step at %s: %s", ms(e.T), e.Attr("step")))
		} else {
			what := "problem"
			if e.Kind == history.KindEvidenceLost {
				what = "evidence lost"
			}
			l.tick(top, rowH, e.T, "tk-bad", fmt.Sprintf("%s at %s: %s", what, ms(e.T), clip(e.Reason, 600)))
		}
	}
}

// marks: each result at its At, and the windows its measurements name.
func (l *layout) marks(results []Result) {
	bottom := l.y - laneGap
	for _, r := range results {
		at := time.Duration(r.AtMS * float64(time.Millisecond))
		n := 0
		for _, m := range r.Measurements {
			from, to, ok := windowOf(m, at)
			if !ok {
				continue
			}
			if n++; n > maxWindows {
				continue
			}
			x1, x2 := l.x(from), l.x(to)
			l.tl.Windows = append(l.tl.Windows, tlWindow{X: x1, Y: tlTop - 4, W: max(x2-x1, 1), H: bottom - tlTop + 4,
				Tip: fmt.Sprintf("%s %s: %s = %s, %s–%s (%s)", r.Requirement, r.Check, m.Name, value(m), ms(from), ms(to), m.Evidence)})
		}
		if n > maxWindows {
			l.tl.Notes = append(l.tl.Notes, fmt.Sprintf("%s %s: the first %d of its %d measured windows are drawn", r.Requirement, r.Check, maxWindows, n))
		}
		if r.AtMS <= 0 {
			continue // decided nowhere in particular (UNIMPLEMENTED, a run that did not go as scheduled)
		}
		l.tl.Marks = append(l.tl.Marks, tlMark{X: l.x(at), Y1: tlTop - 4, Y2: bottom,
			Class: "mk " + verdictClass(r.Verdict), Label: r.Requirement, verdict: r.Verdict,
			Tip: fmt.Sprintf("%s %s %s at %s: %s", r.Requirement, r.Check, r.Verdict, ms(at), clip(r.Detail, 300))})
	}
}

// windowOf is the interval a measurement is a window over: its Span where
// the checker recorded one (a window drawn where it happened); else, as
// reports written before spans were kept, an ms measurement named "…window"
// taken to end where the check decided (at).
func windowOf(m check.Measurement, at time.Duration) (from, to time.Duration, ok bool) {
	if m.Span != nil {
		return min(m.Span.From, m.Span.To), max(m.Span.From, m.Span.To), true
	}
	if m.Unit == "ms" && strings.HasSuffix(m.Name, "window") && m.Value > 0 && at > 0 {
		return at - time.Duration(m.Value*float64(time.Millisecond)), at, true
	}
	return 0, 0, false
}

// spanEnd is the latest end of the results' measured windows.
func spanEnd(results []Result) time.Duration {
	var end time.Duration
	for _, r := range results {
		for _, m := range r.Measurements {
			if m.Span != nil {
				end = max(end, m.Span.From, m.Span.To)
			}
		}
	}
	return end
}

// labelMarks gives marks that stand close together one label ("F1 R3"), so
// labels do not print over each other, and staggers neighbouring labels.
func labelMarks(ms []tlMark) {
	order := make([]int, len(ms))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return ms[order[a]].X < ms[order[b]].X })
	lead, n := -1, 0
	for _, i := range order {
		if lead >= 0 && ms[i].X-ms[lead].X < 24 {
			if !strings.Contains(" "+ms[lead].Label+" ", " "+ms[i].Label+" ") {
				ms[lead].Label += " " + ms[i].Label
			}
			ms[lead].verdict = check.Worse(ms[lead].verdict, ms[i].verdict)
			ms[lead].LabelClass = verdictClass(ms[lead].verdict)
			ms[i].Label = ""
			continue
		}
		lead = i
		ms[i].LabelY = 13 + float64(n%2)*13
		ms[i].LabelClass = verdictClass(ms[i].verdict)
		n++
	}
	// A label whose worst verdict is not OK says so in words too.
	for i := range ms {
		if ms[i].Label != "" && ms[i].verdict != check.OK {
			ms[i].Label += " " + verdictCode(ms[i].verdict)
		}
	}
}

// sortedKeys lists a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
