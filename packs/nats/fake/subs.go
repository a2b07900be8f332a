package fake

import (
	"math/rand/v2"
	"strings"
)

// sub is one subscription of a connection.
type sub struct {
	c                   *conn
	subject, queue, sid string
	max, delivered      int64 // max: auto-unsubscribe after this many (0: none)
}

// subIndex finds the subscriptions a subject reaches: literal subjects by
// map (the common case, and the one a thousand clients make hot),
// wildcards by scan.
type subIndex struct {
	literal map[string]map[*sub]struct{}
	wild    map[*sub]struct{}
}

func newSubIndex() subIndex {
	return subIndex{literal: map[string]map[*sub]struct{}{}, wild: map[*sub]struct{}{}}
}

func (x subIndex) add(sb *sub) {
	if isWildcard(sb.subject) {
		x.wild[sb] = struct{}{}
		return
	}
	set := x.literal[sb.subject]
	if set == nil {
		set = map[*sub]struct{}{}
		x.literal[sb.subject] = set
	}
	set[sb] = struct{}{}
}

func (x subIndex) remove(sb *sub) {
	delete(x.wild, sb)
	if set := x.literal[sb.subject]; set != nil {
		delete(set, sb)
		if len(set) == 0 {
			delete(x.literal, sb.subject)
		}
	}
}

// match returns the subscriptions that get a message on subject: every
// plain one that keep admits, and one member, chosen at random as
// nats-server does, of each queue group.
func (x subIndex) match(subject string, keep func(*sub) bool) []*sub {
	var out []*sub
	var groups map[string][]*sub
	take := func(sb *sub) {
		if !keep(sb) {
			return
		}
		if sb.queue == "" {
			out = append(out, sb)
			return
		}
		if groups == nil {
			groups = map[string][]*sub{}
		}
		groups[sb.queue] = append(groups[sb.queue], sb)
	}
	for sb := range x.literal[subject] {
		take(sb)
	}
	if len(x.wild) > 0 {
		toks := strings.Split(subject, ".")
		for sb := range x.wild {
			if matchTokens(strings.Split(sb.subject, "."), toks) {
				take(sb)
			}
		}
	}
	for _, members := range groups {
		out = append(out, members[rand.IntN(len(members))])
	}
	return out
}

func isWildcard(subject string) bool {
	for _, t := range strings.Split(subject, ".") {
		if t == "*" || t == ">" {
			return true
		}
	}
	return false
}

// matchTokens: "*" matches one token, a final ">" one or more.
func matchTokens(pattern, subject []string) bool {
	for i, p := range pattern {
		if p == ">" && i == len(pattern)-1 {
			return len(subject) > i
		}
		if i >= len(subject) || (p != "*" && p != subject[i]) {
			return false
		}
	}
	return len(pattern) == len(subject)
}
