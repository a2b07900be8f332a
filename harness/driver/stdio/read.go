package stdio

import (
	"bufio"
	"errors"
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/driver"
)

// maxLine bounds one stdout line: a driver that writes more without a
// newline is broken, and must not cost unbounded memory.
const maxLine = 1 << 20

// read parses the program's stdout, one line at a time: the hello first,
// then replies (to the op waiting on their id) and events (to the sink, as
// they arrive: the sink stamps them). After a failure it only drains.
func (p *Proc) read() {
	defer close(p.readerDone)
	sc := bufio.NewScanner(p.stdout)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	n := 0
	helloed := false
	for sc.Scan() {
		n++
		if p.isFailed() {
			continue
		}
		b := sc.Bytes()
		l, err := parseLine(b, !helloed)
		if err != nil {
			p.fail(fmt.Sprintf("malformed line %d on stdout (%v): %s", n, err, quote(b)))
			continue
		}
		switch l.kind {
		case kindHello:
			p.hello, helloed = l.hello, true
			if p.multi() { // placed before any event can come for it
				p.mu.Lock()
				p.hosted, p.views = map[int]driver.Sink{p.first: p.sink}, 1
				p.mu.Unlock()
			}
			close(p.helloCh)
		case kindReply:
			p.route(l.reply, n, b)
		case kindEvent:
			if p.multi() {
				p.routeEvent(l, n, b) // host.go
			} else {
				p.sink(l.event)
			}
		}
	}
	if p.isClosing() {
		return // Close closed the pipe or the program ended as asked
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			p.fail(fmt.Sprintf("line %d on stdout is longer than %d bytes", n+1, maxLine))
		} else {
			p.fail("reading stdout: " + err.Error())
		}
		return
	}
	// EOF. If the program exited, wait() says how; if it lives on without a
	// stdout it can answer nothing more.
	select {
	case <-p.exited:
	case <-time.After(settle):
		p.fail(fmt.Sprintf("closed its stdout after %d line(s) but did not exit", n))
	}
}

// route hands a reply to the op waiting on its id. A reply to an op whose
// wait already ended is dropped; a reply to any other id is a failure.
func (p *Proc) route(r driver.Reply, n int, b []byte) {
	p.mu.Lock()
	po, waiting := p.pending[r.Re]
	delete(p.pending, r.Re)
	late := p.abandoned[r.Re]
	delete(p.abandoned, r.Re)
	p.mu.Unlock()
	switch {
	case waiting:
		po.ch <- r // buffered: never blocks
	case late:
	default:
		p.fail(fmt.Sprintf("reply to unknown id %d on line %d (no op with that id is waiting): %s", r.Re, n, quote(b)))
	}
}
