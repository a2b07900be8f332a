package check

import (
	"fmt"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// TestLinkOfAccepts: each server accept gets the link accept of the same
// connection, or none.
func TestLinkOfAccepts(t *testing.T) {
	la := func(ms float64, link, conn string) history.Event {
		return ev(ms, history.KindLinkAccept, "link="+link, "conn="+conn)
	}
	sa := func(ms float64, srv, conn string) history.Event {
		return ev(ms, history.KindAccept, "server="+srv, "conn="+conn)
	}
	cases := []struct {
		name string
		h    history.History
		want string // per server accept, the paired link accept's conn or "-"
	}{
		{name: "in order, per link", h: history.History{
			la(1, "s1", "a"), la(1.1, "s2", "b"), la(1.2, "s1", "c"),
			sa(1.5, "s2", "s2#1"), sa(3, "s1", "s1#1"), sa(3.1, "s1", "s1#2")},
			want: "b a c"},
		{name: "a server accept before any link accept is not the link's (a direct dial)", h: history.History{
			sa(0.5, "s1", "s1#1"), la(1, "s1", "a"), sa(1.4, "s1", "s1#2")},
			want: "- a"},
		{name: "a failed dial reached no server", h: history.History{
			la(1, "s1", "a"), ev(1.2, history.KindLinkDialFail, "link=s1", "conn=a", "reason=refused"),
			la(2, "s1", "b"), sa(2.3, "s1", "s1#1")},
			want: "b"},
		// A burst: the server's accept loop runs far behind its link, and
		// still takes the connections in the link's order.
		{name: "a server far behind its link", h: history.History{
			la(100, "s1", "a"), la(100.1, "s1", "b"), la(100.2, "s1", "c"),
			sa(180, "s1", "s1#1"), sa(180.1, "s1", "s1#2"), sa(300, "s1", "s1#3")},
			want: "a b c"},
		{name: "a kill takes the server's queue with it", h: history.History{
			la(100, "s1", "a"), ev(101, history.KindKill, "server=s1"), ev(105, history.KindRestart, "server=s1"),
			la(110, "s1", "b"), sa(110.4, "s1", "s1#1")},
			want: "b"},
		{name: "no link accepts (a remote Toxiproxy)", h: history.History{
			sa(1, "s1", "s1#1"), sa(2, "s2", "s2#1")},
			want: "- -"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			acc := c.h.Kind(history.KindAccept)
			got := linkOfAccepts(c.h, acc)
			var parts []string
			for _, l := range got {
				if l == nil {
					parts = append(parts, "-")
				} else {
					parts = append(parts, l.Conn)
				}
			}
			if g := strings.Join(parts, " "); g != c.want {
				t.Fatalf("pairs %q, want %q\nhistory:\n%s", g, c.want, fmt.Sprint(c.h))
			}
		})
	}
}
