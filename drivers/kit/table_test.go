package kit

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestTable(t *testing.T) {
	type sess struct {
		name string
		open bool
	}
	var tb Table[*sess]
	if tb.Get(-1) != nil || len(tb.All()) != 0 {
		t.Fatal("the zero table is not empty")
	}
	busy := func(s *sess) bool { return s.open }
	a := &sess{"a", true}
	if !tb.Put(-1, a, busy) || tb.Get(-1) != a {
		t.Fatal("put into an empty slot")
	}
	if tb.Put(-1, &sess{"b", true}, busy) || tb.Get(-1) != a {
		t.Error("an open session was replaced")
	}
	a.open = false
	b := &sess{"b", true}
	if !tb.Put(-1, b, busy) || tb.Get(-1) != b {
		t.Error("a closed session was not replaced")
	}
	tb.Put(2, &sess{"c", true}, busy)
	var names []string
	for _, s := range tb.All() {
		names = append(names, s.name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"b", "c"}) {
		t.Errorf("All = %v", names)
	}
}

// CloseAll closes every entry at once: each close waits for all the others
// to have started.
func TestTableCloseAllTogether(t *testing.T) {
	var tb Table[int]
	const n = 20
	for k := 0; k < n; k++ {
		tb.Put(k, k, func(int) bool { return false })
	}
	var started sync.WaitGroup
	started.Add(n)
	var closed atomic.Int32
	done := make(chan struct{})
	go func() {
		tb.CloseAll(func(int) {
			started.Done()
			started.Wait()
			closed.Add(1)
		})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the closes did not run together")
	}
	if closed.Load() != n {
		t.Errorf("%d closed, want %d", closed.Load(), n)
	}
}

func TestSendCounts(t *testing.T) {
	var c SendCounts
	a, b := c.For(-1), c.For(3)
	if a == b || c.For(-1) != a {
		t.Fatal("one numbering per client")
	}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := c.For(-1)
			sc.Lock()
			sc.N++
			sc.Unlock()
		}()
	}
	wg.Wait()
	if a.N != 50 || b.N != 0 {
		t.Errorf("N %d and %d", a.N, b.N)
	}
}
