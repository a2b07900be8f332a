package real

import (
	"reflect"
	"testing"
)

func TestMatches(t *testing.T) {
	subs := []sub{{"t/#", 1}, {"t/y", 0}, {"t/+", 2}, {"#", 1}, {"t/y/#", 1}, {"+/+", 0}, {"x", 1}, {"$SYS/#", 0}}
	for topic, want := range map[string][]string{
		// mosquitto's order: at each level the literal child's subtree
		// (deeper before the level's own subscribers), then '+''s, then '#'.
		// Seen with t/#, t/y and t/+: t/y is delivered once, at t/y's QoS.
		"t/y":         {"t/y/#", "t/y", "t/+", "t/#", "+/+", "#"},
		"t/z":         {"t/+", "t/#", "+/+", "#"},
		"t":           {"t/#", "#"},
		"x":           {"x", "#"},
		"t/y/z":       {"t/y/#", "t/#", "#"},
		"$SYS/broker": {"$SYS/#"},
		"$other":      nil,
	} {
		var got []string
		for _, s := range matches(subs, topic) {
			got = append(got, s.filter)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("matches(%q) = %v, want %v", topic, got, want)
		}
	}
	if matches(nil, "t") != nil {
		t.Error("no subscriptions, matches")
	}
}

func TestValidTopic(t *testing.T) {
	for topic, want := range map[string]bool{"a/b": true, "": false, "a/+": false, "#": false, "a\x00": false, "$x": true} {
		if validTopic(topic) != want {
			t.Errorf("validTopic(%q) = %v", topic, !want)
		}
	}
}
