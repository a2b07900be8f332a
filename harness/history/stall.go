package history

import "time"

// KindStall (Source harness, Attrs{for}): the harness's scheduler probe woke
// late by `for`, so for that long before the event's T nothing on this
// machine can be trusted to have run on time: the engine's timers, the
// servers' stamps and the harness's own steps alike. Timing checkers widen a
// bound by the stall time that overlaps the interval they measure, and say
// so, rather than blame an SDK for a machine that stood still.
const KindStall = "stall"

// StallThreshold is the scheduler probe's threshold: it records a stall only
// when it wakes up later than this, so any one timer on this machine (an
// engine's, a server's, a link's latency toxic) may fire up to this late with
// no stall in the history. A bound built on a timer's delay adds it once.
const StallThreshold = 10 * time.Millisecond
