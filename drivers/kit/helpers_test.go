package kit

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestURLMap(t *testing.T) {
	hostPort := func(s string) string { // a library's reading: the part after the scheme
		_, rest, ok := strings.Cut(s, "://")
		if !ok {
			return ""
		}
		return strings.TrimSuffix(rest, "/")
	}
	got := URLMap([]string{"nats://a:1/", "tls://a:1", "b:2", "nats://c:3"}, hostPort)
	if want := map[string]string{"a:1": "nats://a:1/", "c:3": "nats://c:3"}; !maps.Equal(got, want) {
		t.Errorf("URLMap = %v, want %v", got, want)
	}
}

func TestSettings(t *testing.T) {
	if got := Settings(" a, b ,,c "); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Settings = %q", got)
	}
	if got := Settings(""); got != nil {
		t.Errorf("Settings(\"\") = %q", got)
	}
}

func TestLabelAndCloseOnce(t *testing.T) {
	three := 3
	if Label(nil) != "default" || Label(&three) != "3" {
		t.Errorf("labels %q %q", Label(nil), Label(&three))
	}
	c := make(chan struct{})
	CloseOnce(c)
	CloseOnce(c) // no panic
	select {
	case <-c:
	default:
		t.Error("not closed")
	}
}
