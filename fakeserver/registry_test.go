package fakeserver

import (
	"slices"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

func TestRegistryStartsSessionKind(t *testing.T) {
	if !slices.Contains(Kinds(), "session") {
		t.Fatalf("kinds %v", Kinds())
	}
	log := history.NewLog(history.NewClock())
	srv, err := Start("session", "r1", log, Config{Ping: 50 * time.Millisecond, Retention: time.Second, Buffer: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.Name() != "r1" || srv.URL() != "ws://"+srv.Addr()+"/" {
		t.Fatalf("name %q url %q addr %q", srv.Name(), srv.URL(), srv.Addr())
	}
	if _, ok := srv.(Publisher); !ok {
		t.Fatal("a session server publishes")
	}
	if _, ok := srv.(SessionCloser); !ok {
		t.Fatal("a session server closes sessions")
	}
	c := dial(t, srv.(*SessionServer))
	w := c.create(0)
	if w.PingMS != 50 || w.RetentionMS != 1000 {
		t.Fatalf("config not applied: %+v", w)
	}
	if e := waitEvent(t, log, kindOf(history.KindSessionCreate)); e.Server != "r1" {
		t.Fatalf("event %s", e)
	}
	c.drop()
	if _, err := Start("nope", "x", log, Config{}); err == nil {
		t.Fatal("unknown kind started")
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("registering a kind twice must panic")
		}
	}()
	Register("session", func(string, history.Recorder, Config) (Server, error) { return nil, nil })
}
