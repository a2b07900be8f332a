package stdio

import "sync"

// ring keeps the last size bytes written to it: the tail of a driver's
// stderr, which is the evidence a crash usually leaves (a panic, a stack).
// Older bytes are dropped so a chatty driver costs bounded memory.
type ring struct {
	mu    sync.Mutex
	buf   []byte
	size  int
	total int64 // bytes ever written, to say how much was dropped
}

func newRing(size int) *ring { return &ring{size: size} }

func (r *ring) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total += int64(len(p))
	if len(p) >= r.size {
		r.buf = append(r.buf[:0], p[len(p)-r.size:]...)
		return len(p), nil
	}
	if over := len(r.buf) + len(p) - r.size; over > 0 {
		r.buf = append(r.buf[:0], r.buf[over:]...)
	}
	r.buf = append(r.buf, p...)
	return len(p), nil
}

// tail returns the kept bytes and whether earlier ones were dropped.
func (r *ring) tail() (string, bool) { return r.last(r.size) }

// last returns at most the last n bytes kept, and whether earlier ones
// were dropped (by the ring, or by n).
func (r *ring) last(n int) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.buf
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b), r.total > int64(len(b))
}

// written is how many bytes were ever written.
func (r *ring) written() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}
