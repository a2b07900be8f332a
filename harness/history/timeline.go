package history

import "time"

// StartTimeline moves the log's clock so that offset 0 is now. A run's
// timeline starts once its topology is up, and bringing containers up takes
// a good part of a second or more: steps at 0s must not all fire at once to
// catch up. Events recorded before (rarely any) keep their order, with
// negative offsets. Record and the clock's readers may run concurrently with it.
func (l *Log) StartTimeline() {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	shift := now.Sub(*l.clock.start.Load())
	l.clock.start.Store(&now) // under l.mu: Record compares origins under it
	for i := range l.evs {
		l.evs[i].T -= shift
	}
}
