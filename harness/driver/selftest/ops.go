package selftest

import (
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// noClient marks an op of the process, not of a client (probe, exit).
const noClient = -1

// idBase spaces client k's op ids at k·10⁹ as the harness does for a
// multi-session driver (docs/driver-protocol.md, multi-session drivers).
const idBase = 1_000_000_000

// seed is FAULTLINE_SEED, and each connect's "seed".
var seed int64 = 1

// nextID is the next op id for client (client 0's for the process's ops).
func (t *tester) nextID(client int) int64 {
	k := max(client, 0)
	t.ids[k]++
	if t.multi {
		return int64(k)*idBase + t.ids[k]
	}
	return t.ids[k]
}

// do sends op for client and waits for its reply. Without a reply in time
// (or if the driver is gone) the step fails and the driver is marked dead:
// the harness would fail it there.
func (t *tester) do(s *Step, client int, op driver.Op) (replyRec, bool) {
	return t.doOn(t.c, s, client, op)
}

func (t *tester) doOn(c *conv, s *Step, client int, op driver.Op) (replyRec, bool) {
	op.ID = t.nextID(client)
	if t.multi && client != noClient {
		k := client
		op.Client = &k
		if op.Op == driver.OpConnect {
			op.Driver, op.Seed = int64(client)+1, &seed
		}
	}
	sent := time.Now()
	if err := c.send(op); err != nil {
		why := fmt.Sprintf("op %s could not be written (%v)", opText(op), err)
		if c.p.hasExited() {
			why = fmt.Sprintf("the driver exited (%s) before op %s", c.p.exitText(), opText(op))
		}
		s.fail("%s; expected a driver that reads its stdin until the exit op", why)
		t.setDead(c, why)
		return replyRec{}, false
	}
	r, ok := c.awaitReply(op.ID, t.cfg.Timeout)
	if ok {
		return r, true
	}
	var why string
	switch {
	case c.p.waitExit(100 * time.Millisecond):
		why = fmt.Sprintf("the driver exited (%s) without replying to op %s", c.p.exitText(), opText(op))
	case c.isEnded():
		why = fmt.Sprintf("the driver closed its stdout without replying to op %s", opText(op))
	default:
		why = fmt.Sprintf("no reply to op %s within %s", opText(op), ms(time.Since(sent)))
	}
	s.fail("%s; expected {\"re\":%d,\"ok\":…} (the harness fails a driver that does not answer within --op-timeout)", why, op.ID)
	t.setDead(c, why)
	return replyRec{}, false
}

// setDead marks the main driver as gone (the EOF step's own process only
// fails its step).
func (t *tester) setDead(c *conv, why string) {
	if c == t.c && t.dead == "" {
		t.dead = why
	}
}

func (c *conv) isEnded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

// refused holds a reply to be a refusal with a reason.
func refused(s *Step, op string, r replyRec, why string) {
	switch {
	case r.r.OK:
		s.fail("%s: ok true to %s; expected ok false with an error (%s)", r.where(), op, why)
	case r.r.Error == "":
		s.fail("%s: refused %s without an error; expected \"error\" saying why", r.where(), op)
	}
}

// accepted holds a reply to be ok.
func accepted(s *Step, op string, r replyRec, why string) bool {
	if !r.r.OK {
		s.fail("%s: refused %s (%q); expected ok true (%s)", r.where(), op, r.r.Error, why)
		return false
	}
	return true
}
