package client

import "encoding/json"

// pendingSend is a client send not yet acknowledged by the server.
type pendingSend struct {
	n       int64
	payload json.RawMessage
}

// sendBuffer is the client's recovery buffer: sends in n order, kept until
// acked, resent after a resume from the server's received+1.
type sendBuffer struct{ items []pendingSend }

func (b *sendBuffer) add(n int64, p json.RawMessage) {
	b.items = append(b.items, pendingSend{n, p})
}

// ackThrough drops every send with n ≤ upto (acks are cumulative: frames
// travel in order on one connection).
func (b *sendBuffer) ackThrough(upto int64) {
	i := 0
	for i < len(b.items) && b.items[i].n <= upto {
		i++
	}
	if i == len(b.items) {
		b.items = nil // let the backing array go
		return
	}
	b.items = b.items[i:]
}

// first is the oldest n held.
func (b *sendBuffer) first() (int64, bool) {
	if len(b.items) == 0 {
		return 0, false
	}
	return b.items[0].n, true
}

func (b *sendBuffer) len() int { return len(b.items) }

func (b *sendBuffer) all() []pendingSend { return b.items }
