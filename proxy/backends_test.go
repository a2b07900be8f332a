package proxy

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/faultline/faultline/harness/history"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// backend makes a Toxiproxy for a test; its cleanup is registered on t.
type backend func(t *testing.T, rec history.Recorder, opts ...Option) Toxiproxy

var backends = []struct {
	name string
	mk   backend
}{{"embedded", newTestEmbedded}, {"remote", newTestRemote}}

func newTestEmbedded(t *testing.T, rec history.Recorder, opts ...Option) Toxiproxy {
	t.Helper()
	e, err := NewEmbedded(rec, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return e
}

// apiServer serves an in-process Toxiproxy's HTTP API on 127.0.0.1:0
// (srv.Listen cannot report a :0 port).
func apiServer(t *testing.T) (*toxiproxy.ApiServer, string) {
	t.Helper()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	ts := httptest.NewServer(srv.Routes())
	t.Cleanup(func() {
		ts.Close()
		_ = srv.Collection.Clear() // stops proxies a failed test left behind
	})
	return srv, ts.URL
}

func newTestRemote(t *testing.T, rec history.Recorder, opts ...Option) Toxiproxy {
	t.Helper()
	_, url := apiServer(t)
	r, err := NewRemote(url, rec, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return r
}

// setup builds an echo upstream, a Toxiproxy and one link "s1" in front of it.
func setup(t *testing.T, mk backend) (*Link, *echo, *history.Log) {
	t.Helper()
	up := newEcho(t)
	log := newLog()
	tp := mk(t, log)
	l, err := tp.Link(ctx(t), "s1", up.addr())
	if err != nil {
		t.Fatal(err)
	}
	return l, up, log
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func apply(t *testing.T, l *Link, verb string, attrs any, dir Direction) FaultID {
	t.Helper()
	id, err := l.Apply(ctx(t), verb, attrs, dir)
	if err != nil {
		t.Fatalf("apply %s: %v", verb, err)
	}
	return id
}

func heal(t *testing.T, l *Link, id FaultID) {
	t.Helper()
	if err := l.Heal(ctx(t), id); err != nil {
		t.Fatalf("heal %d: %v", id, err)
	}
}
