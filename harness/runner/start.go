package runner

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/scenario"
)

// startParallelism is how many driver starts run at once by default. A
// driver program's start is mostly its runtime booting, on the CPU (a Node
// driver: ~0.1 s): a few at once per core overlap one start's exec and
// waits with another's CPU; more only make each start slower, and each has
// its own hello deadline. Measured here (2 cores shared with other work),
// 320 Node drivers: 33 s one after another, 24-29 s four at a time.
func startParallelism() int { return min(max(2*runtime.NumCPU(), 4), 32) }

// idStride spaces the op ids of clients that share a multi-session process:
// client k's ids are k·idStride+1, …, unique in the process (replies are
// matched by id alone) and still the ids the servers see (a request's id
// is its op's). 1e9 ops per client is out of reach; 1000 clients' ids stay
// below 2^53, exact in a JavaScript number.
const idStride = 1_000_000_000

// startDrivers starts client 0's driver first, alone: its hello says
// whether one process can host several clients (driver.Host). If it can
// host S > 1, clients are packed S to a process in index order (client 0's
// process takes clients 0..S-1), the other processes are started up to
// cfg.StartParallelism at a time, and each client gets a view onto its
// process; otherwise each client gets a driver of its own, started the same
// way. Each start is bounded by its own HelloTimeout from when it begins (not
// from when it was queued). t.clients keeps client index order, and client
// 0's hello is the run's; the factory numbers each driver by its client
// (driver.WithSlot), so a seed gives every client the same random stream
// whatever the order of starts and the packing. On the first failure no
// further start begins and those under way are cancelled; every driver that
// did start stays in t.clients, so that down() closes it and no driver
// program is left running.
func (t *run) startDrivers(ctx context.Context) error {
	n := t.sc.Clients
	clients := make([]*clientRunner, n)
	for i := range clients {
		clients[i] = &clientRunner{run: t, idx: i, queue: make(chan scenario.Step, len(t.sc.Steps)+1)}
	}
	defer func() {
		for _, c := range clients {
			if c.drv != nil {
				t.clients = append(t.clients, c)
			}
		}
	}()
	if n == 0 {
		return nil
	}
	sctx, stop := context.WithCancel(ctx) // cancelled at the first failure: the other starts give up
	defer stop()
	batch := driver.NewBatch(n)
	slot := func(i int) context.Context { return driver.WithSlot(sctx, batch, i) }
	start := func(i int) (driver.Driver, error) {
		dctx, cancel := context.WithTimeout(slot(i), t.cfg.HelloTimeout)
		defer cancel()
		return t.cfg.Driver(dctx, clients[i].sink)
	}
	// place gives the clients after first, up to end, views onto first's process.
	place := func(h driver.Host, first, end int) error {
		for i := first + 1; i < end; i++ {
			d, err := h.Open(slot(i), clients[i].sink)
			if err != nil {
				return fmt.Errorf("driver for client %d: %w", i, err)
			}
			clients[i].drv = d
		}
		return nil
	}

	d0, err := start(0)
	if err != nil {
		return fmt.Errorf("driver for client 0: %w", err)
	}
	clients[0].drv = d0
	per := 1
	h0, multi := d0.(driver.Host)
	if multi && h0.Sessions() > 1 {
		per = min(h0.Sessions(), n)
		for i, c := range clients {
			c.ids.Store(int64(i) * idStride)
		}
		if err := place(h0, 0, per); err != nil {
			return err
		}
	}
	t.per = per                  // lagprobe.go: which clients share a process
	units := (n + per - 1) / per // processes to start; unit 0 is started
	err = t.pool(sctx, units, stop, func(u int) error {
		first := u * per
		d, err := start(first)
		if err != nil {
			return fmt.Errorf("driver for client %d: %w", first, err)
		}
		clients[first].drv = d
		if per == 1 {
			return nil
		}
		h, ok := d.(driver.Host)
		if !ok || h.Sessions() < per {
			return fmt.Errorf("driver for client %d: its process hosts %d session(s); client 0's hosts %d", first, max(hostSessions(d), 1), per)
		}
		return place(h, first, min(first+per, n))
	})
	if err != nil {
		return err
	}
	started := 0
	for _, c := range clients {
		if c.drv != nil {
			started++
		}
	}
	if ctx.Err() != nil && started < n { // cancelled between starts: nothing failed, nothing ran
		return fmt.Errorf("drivers: %d of %d started before the run was cancelled: %w", started, n, ctx.Err())
	}
	t.hello, t.helloOK = d0.Hello(), true
	return nil
}

func hostSessions(d driver.Driver) int {
	if h, ok := d.(driver.Host); ok {
		return h.Sessions()
	}
	return 1
}

// pool runs job(1), …, job(units−1) on up to cfg.StartParallelism workers,
// in index order, and returns the first failure; stop is called on it, so
// that starts under way give up and no later one begins (the failures those
// cancelled starts report are not failures of their own).
func (t *run) pool(ctx context.Context, units int, stop func(), job func(int) error) error {
	par := t.cfg.StartParallelism
	if par <= 0 {
		par = startParallelism()
	}
	par = min(par, max(units-1, 1))
	var (
		mu       sync.Mutex
		firstErr error
		next     = 1
		wg       sync.WaitGroup
	)
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				u := next
				next++
				stopped := firstErr != nil
				mu.Unlock()
				if u >= units || stopped || ctx.Err() != nil {
					return
				}
				err := job(u)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					stop()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}
