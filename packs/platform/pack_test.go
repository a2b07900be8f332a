package platform_test

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/packs/platform"
	"github.com/faultline/faultline/packs/platform/instance"
)

// Every test closes what it starts: no goroutine may outlive the package's tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestKindIsRegistered(t *testing.T) {
	k, ok := fakeserver.LookupKind(platform.Kind)
	if !ok {
		t.Fatalf("kind %q not registered (kinds %v)", platform.Kind, fakeserver.Kinds())
	}
	if k.Protocol != fakeserver.OwnProtocol || k.Scheme != "ws" || k.Path != "/" || k.Doc == "" || len(k.Actions) != 0 {
		t.Errorf("kind = %+v: want faultline's own protocol, ws, path /, a doc, no actions", k)
	}
}

func TestInstanceIsRegistered(t *testing.T) {
	s, err := fakeserver.Start(platform.Kind, "i1", nil, fakeserver.Config{Ping: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*instance.Server); !ok {
		t.Errorf("started %T", s)
	}
	if s.Name() != "i1" || s.URL() != "ws://"+s.Addr()+"/" || s.URL() != fakeserver.URL(platform.Kind, s.Addr()) {
		t.Errorf("name %s url %s", s.Name(), s.URL())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}
