package history

import "testing"

// A pack's own words first, then the words every pack shares, else the
// transport.
func TestDisconnOf(t *testing.T) {
	own := map[string]string{"stale": DisconnIdle, "killed": DisconnGoingAway}
	for reason, want := range map[string]string{
		"stale":              DisconnIdle,
		"killed":             DisconnGoingAway, // the pack's meaning wins over the shared one
		"server_close":       DisconnServer,
		"error:bad frame":    DisconnServer,
		"eof":                DisconnTransport,
		"":                   DisconnTransport,
		"errors are not ...": DisconnTransport, // no "error:" prefix
	} {
		if got := DisconnOf(reason, own); got != want {
			t.Errorf("DisconnOf(%q) = %q, want %q", reason, got, want)
		}
	}
	if got := DisconnOf("killed", nil); got != DisconnServer {
		t.Errorf("killed without own words: %q", got)
	}
}
