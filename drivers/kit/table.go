package kit

import "sync"

// Table holds what a driver keeps per client (its sessions, its send
// numbering) by client index (Op.Index: -1 the default session). The zero
// Table is empty and ready; it is safe for concurrent use.
type Table[S any] struct {
	mu sync.Mutex
	m  map[int]S
}

// Get is client k's entry (the zero S when there is none).
func (t *Table[S]) Get(k int) S {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[k]
}

// Put makes s client k's entry, unless busy says the entry there is still
// in use (an open session: "already connected"); busy runs under the
// table's lock. False: s was not put.
func (t *Table[S]) Put(k int, s S, busy func(old S) bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.m[k]; ok && busy(old) {
		return false
	}
	if t.m == nil {
		t.m = map[int]S{}
	}
	t.m[k] = s
	return true
}

// Ensure is client k's entry, made by mk when there is none yet.
func (t *Table[S]) Ensure(k int, mk func() S) S {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.m[k]
	if !ok {
		s = mk()
		if t.m == nil {
			t.m = map[int]S{}
		}
		t.m[k] = s
	}
	return s
}

// All is every entry, in no particular order.
func (t *Table[S]) All() []S {
	t.mu.Lock()
	defer t.mu.Unlock()
	all := make([]S, 0, len(t.m))
	for _, s := range t.m {
		all = append(all, s)
	}
	return all
}

// CloseAll runs close on every entry at once and returns when all have
// returned (a Handler's CloseAll: the sessions close together).
func (t *Table[S]) CloseAll(close func(S)) {
	var wg sync.WaitGroup
	for _, s := range t.All() {
		wg.Add(1)
		go func() { defer wg.Done(); close(s) }()
	}
	wg.Wait()
}

// SendCount numbers one client's sends: N is how many sends the library
// took for this client, over all its connects. A send is published as
// Numbered(N+1, payload), so that the server's receive carries the
// client's send number (its Seq), as faultline's own engine numbers its
// sends: a refused send takes no number. Hold its lock across the publish:
// sends of one client are numbered in the order the library took them.
type SendCount struct {
	sync.Mutex
	N int64
}

// SendCounts is the send numbering of every client. The zero SendCounts
// is ready.
type SendCounts struct{ t Table[*SendCount] }

// For is the send numbering of client k (Op.Index).
func (c *SendCounts) For(k int) *SendCount {
	return c.t.Ensure(k, func() *SendCount { return &SendCount{} })
}
