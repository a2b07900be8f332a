package kit

import "testing"

// The lifecycle rule U1's table, every pair.
func TestLegal(t *testing.T) {
	states := []string{"", Connecting, Active, Recovering, ClosedByClient, ClosedByServer, ClosedFailed}
	legal := map[[2]string]bool{
		{"", Connecting}:     true,
		{Connecting, Active}: true, {Connecting, ClosedByClient}: true, {Connecting, ClosedByServer}: true, {Connecting, ClosedFailed}: true,
		{Active, Recovering}: true, {Active, Connecting}: true, {Active, ClosedByClient}: true, {Active, ClosedByServer}: true, {Active, ClosedFailed}: true,
		{Recovering, Active}: true, {Recovering, Connecting}: true, {Recovering, ClosedByClient}: true, {Recovering, ClosedByServer}: true, {Recovering, ClosedFailed}: true,
	}
	for _, from := range states {
		for _, to := range states {
			if got := Legal(from, to); got != legal[[2]string{from, to}] {
				t.Errorf("Legal(%q, %q) = %v", from, to, got)
			}
		}
	}
}

func TestPhaseAndIsClosed(t *testing.T) {
	for s, want := range map[string]string{
		Connecting: "connecting", Active: "connected", Recovering: "recovering",
		ClosedByClient: "closed_by_client", ClosedByServer: "closed_by_server", ClosedFailed: "closed_failed", "": "",
	} {
		if got := Phase(s); got != want {
			t.Errorf("Phase(%q) = %q, want %q", s, got, want)
		}
		if IsClosed(s) != (len(want) > 7 && want[:7] == "closed_") {
			t.Errorf("IsClosed(%q) = %v", s, IsClosed(s))
		}
	}
}
