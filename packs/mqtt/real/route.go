package real

import "strings"

// sub is one subscription of a session: a topic filter and its granted QoS.
type sub struct {
	filter string
	qos    int
}

// matches lists the subscriptions among subs that a message on topic
// reaches, in the order mosquitto 2.0.11 finds them (subs.c sub__search):
// depth first, at each level the literal child before '+' (each searched
// deeper before its own subscribers are taken when the topic ends there),
// then '#'. A topic beginning with '$' is matched by no wildcard at its
// first level. mosquitto sends a message once to an MQTT 3.x client with
// several matching subscriptions, at the first one's QoS (database.c
// db__message_insert: the later copies are dropped); an MQTT 5 client gets
// one copy per subscription.
func matches(subs []sub, topic string) []sub {
	if len(subs) == 0 {
		return nil
	}
	levels := strings.Split(topic, "/")
	cands := make([]split, 0, len(subs))
	for _, s := range subs {
		cands = append(cands, split{s, strings.Split(s.filter, "/")})
	}
	var out []sub
	search(levels, 0, cands, &out)
	return out
}

type split struct {
	s      sub
	levels []string
}

func search(topic []string, i int, cands []split, out *[]sub) {
	if i < len(topic) {
		for _, child := range []string{topic[i], "+"} {
			if child == "+" && i == 0 && strings.HasPrefix(topic[0], "$") {
				continue
			}
			var next []split
			for _, c := range cands {
				if len(c.levels) > i && c.levels[i] == child {
					next = append(next, c)
				}
			}
			if len(next) == 0 {
				continue
			}
			search(topic, i+1, next, out)
			if i+1 == len(topic) {
				for _, c := range next {
					if len(c.levels) == i+1 {
						*out = append(*out, c.s)
					}
				}
			}
		}
	}
	if i == 0 && strings.HasPrefix(topic[0], "$") {
		return
	}
	for _, c := range cands {
		if len(c.levels) == i+1 && c.levels[i] == "#" {
			*out = append(*out, c.s)
		}
	}
}

// validTopic says whether a harness publish may use topic as an MQTT topic
// name: not empty, no wildcards, no NUL, at most 65535 bytes (mosquitto
// closes the connection of a client that publishes to anything else).
func validTopic(topic string) bool {
	return topic != "" && len(topic) <= 65535 && !strings.ContainsAny(topic, "+#\x00")
}
