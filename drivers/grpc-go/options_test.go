package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/drivers/kit"
	"github.com/faultline/faultline/drivers/kit/kittest"
	"google.golang.org/grpc/backoff"
)

// centred is the grpc-go jitter that gives the scenario's band for j.
func centred(j float64) float64 { return (j / 2) / (1 - j/2) }

func TestConnectParams(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		name    string
		st      *kit.StrategyOptions
		timeout int64
		want    backoff.Config
		minConn time.Duration
		shape   string
	}{
		{"none: grpc-go's defaults, the 20 s timeout kept", nil, 0, backoff.DefaultConfig, 20 * time.Second, ""},
		{"exponential, jitter centred: c = 0.9", &kit.StrategyOptions{Backoff: "exponential", InitialMS: 100, Multiplier: 1.5, MaxMS: 2000, Jitter: 0.2}, 700,
			backoff.Config{BaseDelay: 90 * ms, Multiplier: 1.5, MaxDelay: 1800 * ms, Jitter: centred(0.2)}, 700 * ms, "exponential"},
		{"exponential, no jitter: the scenario's numbers", &kit.StrategyOptions{Backoff: "exponential", InitialMS: 100, Multiplier: 1.5, MaxMS: 2000}, 700,
			backoff.Config{BaseDelay: 100 * ms, Multiplier: 1.5, MaxDelay: 2000 * ms}, 700 * ms, "exponential"},
		{"exponential, multiplier and max left out", &kit.StrategyOptions{Backoff: "exponential", InitialMS: 50}, 0,
			backoff.Config{BaseDelay: 50 * ms, Multiplier: 2, MaxDelay: 120 * time.Second}, 20 * time.Second, "exponential"},
		{"exponential, initial above the default max", &kit.StrategyOptions{InitialMS: 200000}, 0,
			backoff.Config{BaseDelay: 200 * time.Second, Multiplier: 2, MaxDelay: 200 * time.Second}, 20 * time.Second, "exponential"},
		{"fixed: multiplier 1, capped at the delay", &kit.StrategyOptions{Backoff: "fixed", InitialMS: 250}, 1000,
			backoff.Config{BaseDelay: 250 * ms, Multiplier: 1, MaxDelay: 250 * ms}, time.Second, "constant"},
		{"fixed, jitter 0.5: c = 0.75", &kit.StrategyOptions{Backoff: "fixed", InitialMS: 400, Jitter: 0.5}, 1000,
			backoff.Config{BaseDelay: 300 * ms, Multiplier: 1, MaxDelay: 300 * ms, Jitter: centred(0.5)}, time.Second, "constant"},
		{"jitter clamped to 1: c = 0.5", &kit.StrategyOptions{Backoff: "fixed", InitialMS: 10, Jitter: 3}, 0,
			backoff.Config{BaseDelay: 5 * ms, Multiplier: 1, MaxDelay: 5 * ms, Jitter: 1}, 20 * time.Second, "constant"},
	} {
		cp, shape := connectParams(c.st, c.timeout)
		if cp.Backoff != c.want || cp.MinConnectTimeout != c.minConn || shape != c.shape {
			t.Errorf("%s: %+v %v %q, want %+v %v %q", c.name, cp.Backoff, cp.MinConnectTimeout, shape, c.want, c.minConn, c.shape)
		}
		// Never grpc-go's zero traps: a zero timeout or a zero back-off.
		if cp.MinConnectTimeout <= 0 || cp.Backoff.BaseDelay <= 0 || cp.Backoff.MaxDelay < cp.Backoff.BaseDelay {
			t.Errorf("%s: zero trap %+v", c.name, cp)
		}
	}
}

func TestKeepaliveFor(t *testing.T) {
	for _, c := range []struct {
		l                int64
		time, to, detect time.Duration
	}{
		{300, 10 * time.Second, 150 * time.Millisecond, 10150 * time.Millisecond},
		{15000, 10 * time.Second, 7500 * time.Millisecond, 17500 * time.Millisecond},
		{20000, 10 * time.Second, 10 * time.Second, 20 * time.Second},
		{60000, 30 * time.Second, 30 * time.Second, 60 * time.Second},
	} {
		k := keepaliveFor(c.l)
		if k.Time != c.time || k.Timeout != c.to || k.Time+k.Timeout != c.detect || !k.PermitWithoutStream {
			t.Errorf("liveness %dms: %+v, want time %v timeout %v", c.l, k, c.time, c.to)
		}
		if k.Time < keepaliveMinTime {
			t.Errorf("liveness %dms: Time %v below grpc-go's minimum", c.l, k.Time)
		}
	}
}

// contractOf is planFor's effective contract as the connect reply carries it.
func contractOf(t *testing.T, servers int, mod func(map[string]any)) map[string]any {
	t.Helper()
	raw, _ := json.Marshal(kittest.Options(50, mod))
	p, err := planFor(make([]string, servers), raw, "c0")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p.contract)
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

// termProblems is every term of c without a value or a grpc-go citation.
func termProblems(c map[string]any) []string {
	var out []string
	for _, k := range append(append([]string{}, kittest.Terms...), extraTerms...) {
		term, _ := c[k].(map[string]any)
		v, _ := term["value"].(string)
		cite, _ := term["cite"].(string)
		if v == "" || !strings.HasPrefix(cite, "grpc-go ") {
			out = append(out, k)
		}
	}
	return out
}

func TestEveryContractCited(t *testing.T) {
	for name, mod := range map[string]func(map[string]any){
		"defaults": nil,
		"shuffle":  func(o map[string]any) { o["failover"].(map[string]any)["load_balancing"] = true },
		"round_robin": func(o map[string]any) {
			o["library"] = map[string]any{"grpc": map[string]any{"lb_policy": "round_robin"}}
		},
		"idle off": func(o map[string]any) { o["library"] = map[string]any{"grpc": map[string]any{"idle_connect": false}} },
		"liveness": func(o map[string]any) { o["liveness_ms"] = 30000 },
	} {
		if p := termProblems(contractOf(t, 2, mod)); len(p) > 0 {
			t.Errorf("%s: terms without value or citation: %v", name, p)
		}
	}
	// The check itself catches a term gone or uncited.
	c := contractOf(t, 1, nil)
	delete(c, "jitter")
	delete(c, "idle_reconnect")
	kittest.Sub(c, "delay")["cite"] = "somewhere"
	if p := termProblems(c); strings.Join(p, ",") != "delay,jitter,idle_reconnect" {
		t.Errorf("termProblems missed: %v", p)
	}
}

func TestPlanMapping(t *testing.T) {
	raw, _ := json.Marshal(kittest.Options(50, func(o map[string]any) {
		o["failover"].(map[string]any)["load_balancing"] = true
		o["liveness_ms"] = 40000
	}))
	p, err := planFor([]string{"a", "b"}, raw, "c3")
	if err != nil {
		t.Fatal(err)
	}
	if !p.shuffle || p.serviceConf != `{"loadBalancingConfig":[{"pick_first":{"shuffleAddressList":true}}]}` || !p.idleConnect {
		t.Errorf("plan %+v", p)
	}
	if p.ka == nil || p.ka.Time != 20*time.Second || p.ka.Timeout != 20*time.Second {
		t.Errorf("keepalive %+v", p.ka)
	}
	c := p.contract
	if c.Shuffle.Value != "at_connect" || c.Liveness.Value != "ping" || c.Delay.Value != "constant" || c.Params.Client != "c3" || *c.Params.DetectMS != 40000 {
		t.Errorf("contract %+v params %+v", c, c.Params)
	}
	for _, u := range c.Unsupported {
		if u.Option == "liveness_ms" {
			t.Errorf("liveness 40 s is expressible: %v", u)
		}
	}

	// No liveness asked: keepalive stays off.
	raw, _ = json.Marshal(kittest.Options(50, nil))
	if p, _ = planFor([]string{"a"}, raw, "c0"); p.ka != nil || p.contract.Liveness.Value != "none" || p.contract.Params.DetectMS != nil {
		t.Errorf("no liveness: %+v", p.ka)
	}

	// Refused options.
	for _, bad := range []string{`{"library":{"grpc":{"lb_policy":"grpclb"}}}`, `{"reconnect":"yes"}`} {
		if _, err := planFor([]string{"a"}, json.RawMessage(bad), "c0"); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestHostPort(t *testing.T) {
	for in, want := range map[string]string{
		"grpc://127.0.0.1:7101":  "127.0.0.1:7101",
		"grpc://127.0.0.1:7101/": "127.0.0.1:7101",
		"127.0.0.1:9":            "127.0.0.1:9",
		"grpc://127.0.0.1":       "",
		"grpc://:80":             "",
		"%%":                     "",
	} {
		if got := hostPort(in); got != want {
			t.Errorf("hostPort(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExtrasTee(t *testing.T) {
	var x extras
	in := strings.NewReader("{\"id\":7,\"op\":\"request\",\"rows\":500}\nnot json\n{\"id\":9,\"op\":\"cancel\",\"request\":7}\n{\"id\":10,\"op\":\"send\",\"rows\":3}")
	r, stop := x.tee(in)
	defer stop()
	var got strings.Builder
	buf := make([]byte, 8)
	for {
		n, err := r.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if !strings.HasSuffix(got.String(), "\"rows\":3}") || !strings.Contains(got.String(), "not json\n") {
		t.Errorf("passed through %q", got.String())
	}
	if e := x.take(7); e.Rows != 500 {
		t.Errorf("request 7: %+v", e)
	}
	if e := x.take(9); e.Request != 7 {
		t.Errorf("cancel 9: %+v", e)
	}
	if e := x.take(7); e.Rows != 0 {
		t.Errorf("taken twice: %+v", e)
	}
	if e := x.take(10); e.Rows != 0 {
		t.Errorf("a send's rows kept: %+v", e)
	}
}

// grpc-go's band for every delay is the scenario's: [(1−j)·d(n), d(n)].
func TestJitterBandMatchesScenario(t *testing.T) {
	for _, st := range []*kit.StrategyOptions{
		{Backoff: "exponential", InitialMS: 100, Multiplier: 2, MaxMS: 1000, Jitter: 0.2},
		{Backoff: "exponential", InitialMS: 50, Multiplier: 1.6, MaxMS: 300, Jitter: 0.5},
		{Backoff: "fixed", InitialMS: 300, Jitter: 0.5},
		{Backoff: "fixed", InitialMS: 300, Jitter: 1},
	} {
		cp, _ := connectParams(st, 0)
		b := cp.Backoff
		for n := 0; n < 8; n++ {
			// The scenario's d(n).
			d := st.InitialMS
			if st.Backoff != "fixed" {
				d = min(st.InitialMS*math.Pow(st.Multiplier, float64(n)), st.MaxMS)
			}
			// grpc-go's Backoff(n) before jitter (internal/backoff).
			g := float64(b.BaseDelay)
			for k := n; g < float64(b.MaxDelay) && k > 0; k-- {
				g *= b.Multiplier
			}
			g = min(g, float64(b.MaxDelay)) / float64(time.Millisecond)
			lo, hi := g*(1-b.Jitter), g*(1+b.Jitter)
			if n == 0 {
				lo, hi = g, g // the first wait is exact
			}
			if lo < d*(1-st.Jitter)-1e-6 || hi > d+1e-6 {
				t.Errorf("%+v sleep %d: grpc-go [%g, %g], scenario [%g, %g]", st, n, lo, hi, d*(1-st.Jitter), d)
			}
			if n > 0 && (math.Abs(lo-d*(1-st.Jitter)) > 1e-6 || math.Abs(hi-d) > 1e-6) {
				t.Errorf("%+v sleep %d: grpc-go [%g, %g] is not the scenario's band [%g, %g]", st, n, lo, hi, d*(1-st.Jitter), d)
			}
		}
	}
}
