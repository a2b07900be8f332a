package check

import (
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/scenario"
)

// recovery: session A on s1 from 5ms; a cut at 400ms (client RECOVERING at
// 402ms); failing attempts after Delay(0..2) = 100, 200, 400ms; heal at
// 1400ms; attempt 3 after Delay(3) = 800ms resumes A at 1906ms (client
// CONNECTED_ACTIVE at 1907ms).
func recovery() *story {
	s := &story{}
	s.connect(5, "A")
	rec := s.lose(400, "cut", "A")
	end := s.attempts(rec, 100, 200, 400)
	s.add(ev(1400, "fault.off", "link=s1", "verb=cut"))
	s.resume(end+800, "A")
	return s
}

func recoveryH() history.History { return recovery().hist() }

// blackholeRecovery: session A; a blackhole at 400ms, seen idle by the server
// at 600ms and by the client at 700ms; each attempt is held (no conn.close)
// and the client gives up after connect_timeout 200ms, then waits Delay(k);
// the heal at 1900ms closes the held connections; attempt 3 resumes at 2700ms.
func blackholeRecovery() *story {
	s := &story{}
	s.connect(5, "A")
	s.add(
		ev(400, "fault.on", "link=s1", "verb=blackhole"),
		ev(600, "session.disconnect", "server=s1", "session=A", "reason=idle"),
		state(700, cA, rR, "A"),
		ev(800, "accept", "server=s1", "conn=s1#2"),
		ev(1200, "accept", "server=s1", "conn=s1#3"),
		ev(1800, "accept", "server=s1", "conn=s1#4"),
		ev(1900, "fault.off", "link=s1", "verb=blackhole"),
		ev(1900.1, "conn.close", "server=s1", "conn=s1#2"),
		ev(1900.2, "conn.close", "server=s1", "conn=s1#3"),
		ev(1900.3, "conn.close", "server=s1", "conn=s1#4"),
	)
	s.conn = 4
	s.resume(2700, "A")
	return s
}

func withConnectTimeout(d time.Duration) func(*scenario.Scenario) {
	return func(sc *scenario.Scenario) { sc.Client.ConnectTimeout = d }
}
