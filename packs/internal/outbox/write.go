package outbox

import (
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// Close reasons a failed write gives (the packs' conn.close reasons).
const (
	ReasonEOF         = "eof"
	ReasonErrorPrefix = "error:"
)

// Write takes what is queued and writes it in one go within the deadline:
// each item's event recorded and its Written marked just before. bufs is the
// writer's reused buffer list. last says a Terminate's frame was written
// (close now, with the Terminate's reason); err != "" is the close reason
// of a failed write.
func (q *Queue) Write(nc net.Conn, deadline time.Duration, record func(history.Event), bufs net.Buffers) (_ net.Buffers, last bool, err string) {
	bufs = bufs[:0]
	for _, it := range q.Take() {
		if it.Written != nil {
			it.Written.Store(true)
		}
		if it.Event != nil {
			record(*it.Event)
		}
		if len(it.Data) > 0 {
			bufs = append(bufs, it.Data)
		}
		last = last || it.Last
	}
	if len(bufs) > 0 {
		_ = nc.SetWriteDeadline(time.Now().Add(deadline))
		w := bufs // WriteTo consumes its receiver
		if _, werr := w.WriteTo(nc); werr != nil {
			return bufs, false, WriteReason(werr, deadline)
		}
	}
	clear(bufs) // let the written frames go
	return bufs, last, ""
}

// WriteReason names a failed write: a timeout is the client not reading; a
// reset or broken pipe is the client (or its link) gone, as for a read.
func WriteReason(err error, d time.Duration) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return ReasonErrorPrefix + "write timeout after " + d.String()
	case errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNRESET), errors.Is(err, net.ErrClosed):
		return ReasonEOF
	}
	return ReasonErrorPrefix + "write: " + err.Error()
}
