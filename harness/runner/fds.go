package runner

import (
	"fmt"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/topology"
)

// Open files. Every connection holds a descriptor at each end it has in this
// process: an embedded topology holds three per client (the link's accepted
// connection and its dial to the server, and the server's accepted
// connection), the in-process Go engine a fourth (its own socket). A process
// that runs out mid-run fails in the worst way: Toxiproxy's accept loop ends
// at its first accept error (accept4: too many open files) and never
// resumes, so the link's listener keeps completing handshakes into its
// backlog that nobody takes, and when a fault closes the listener every
// queued connection is reset: clients see "connection reset by peer" with no
// link.accept of theirs in the history. Seen with 10,000 clients under a
// hard limit of 20,000: accepts stopped at 3,328 (10,000 + 3 × 3,328 open).
// The link records that end (link.dead) and check.Timeline makes the run's
// results UNKNOWN, but a run spent for nothing is better not begun.
// So the budget is checked once the drivers are up, before the timeline:
// the soft limit is raised as far as it needs (Go raises it to the hard
// limit at start), the hard limit too where the process may (root with
// CAP_SYS_RESOURCE); a budget that still does not fit is UNSUPPORTED here,
// with what it needs, rather than a run whose findings would be the
// harness's.

// fdHeadroom is what a run holds besides its clients' connections: stdio,
// the poller, listeners, driver pipes, control connections, files.
const fdHeadroom = 256

// fdsPerClient is how many descriptors each client holds in this process.
func (t *run) fdsPerClient() int {
	n := 0
	if topo := t.cfg.Topology; topo == nil || isEmbedded(topo) {
		n += 3 // the link's two, the server's one
	}
	if len(t.clients) > 0 {
		if s, ok := t.clients[0].drv.(driver.Shared); ok && s.ProcessKey() == driver.InProcess {
			n++ // the engine's own socket
		}
	}
	return n
}

func isEmbedded(topo topology.Topology) bool {
	switch topo.(type) {
	case topology.Embedded, *topology.Embedded:
		return true
	}
	return false
}

// descriptorsShort is why this process cannot hold the run's connections
// ("" when it can, after raising its limit as needed).
func (t *run) descriptorsShort() string {
	per := t.fdsPerClient()
	if per == 0 {
		return ""
	}
	need := uint64(t.sc.Clients*per + t.sc.Clients/10 + fdHeadroom) // a tenth more: a client's old and new connection may overlap in a failover
	soft, hard, err := raiseNoFile(need)
	if err == nil && soft >= need {
		return ""
	}
	why := fmt.Sprintf("this process needs about %d open files (%d clients × %d descriptors: %s, and %d more) and may hold %d (RLIMIT_NOFILE soft %d, hard %d",
		need, t.sc.Clients, per, perWhat(per), need-uint64(t.sc.Clients*per), min(soft, hard), soft, hard)
	if err != nil {
		why += fmt.Sprintf("; raising it: %v", err)
	}
	why += "): raise the hard limit (ulimit -Hn, systemd LimitNOFILE=, docker --ulimit nofile=)"
	if per == 4 && uint64(t.sc.Clients*3+t.sc.Clients/10+fdHeadroom) <= hard {
		why += ", or run the engine as driver processes (three descriptors a client here then)"
	}
	return why
}

func perWhat(per int) string {
	switch per {
	case 4:
		return "the engine's socket, the link's two, the server's"
	case 3:
		return "the link's two, the server's"
	}
	return "the engine's socket"
}
