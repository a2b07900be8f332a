package containers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// deadUpstream is where a killed server's link points until its restart: a
// closed port inside the links container, refused at once, as a dead
// process's port is on a live host (and as in embedded mode, where the
// killed server's listener is closed). Left at the stopped container's
// vanished address, Toxiproxy's accept loop, which dials each upstream
// itself and without a timeout, stood still on every attempt until the
// kernel gave up on the address. Seen under load (process-kill-failover,
// extra failovers onto the killed s2): the teardown's DELETE of that link
// waited on it past Toxiproxy's 25 s API timeout ("invalid character '<'",
// its timeout page).
const deadUpstream = "127.0.0.1:1"

// Kill stops the container at once (SIGKILL): the process and everything it
// held are gone. Its event stream ends first, so that its end is not a problem.
func (s *serveContainer) Kill(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kill(ctx)
}

func (s *serveContainer) kill(ctx context.Context) error {
	if !s.up {
		return errors.New("already killed")
	}
	s.feed.Stop()
	if l := s.links.get(s.name); l != nil {
		// Before the stop: once the address is gone, the repointing itself
		// would wait on a dial to it (see deadUpstream).
		if err := l.SetUpstream(ctx, deadUpstream); err != nil {
			return fmt.Errorf("point link %s away from the dying server: %w", s.name, err)
		}
	}
	zero := time.Duration(0)
	if err := s.c.Stop(ctx, &zero); err != nil {
		return fmt.Errorf("stop container: %w", err)
	}
	s.up = false
	s.Hosted.Client().Close()
	s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindKill, Server: s.name})
	return nil
}

// Restart starts the container again (killing it first if it runs): a fresh
// process with the scenario's configuration, on the same address in the
// network. Its control port may be mapped elsewhere on the host now.
func (s *serveContainer) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.up {
		if err := s.kill(ctx); err != nil {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(ctx, s.t.opts.Timeout)
	defer cancel()
	if err := s.c.Start(sctx); err != nil {
		return fmt.Errorf("start container: %w", err)
	}
	// Docker may give the container another address on its way back; the
	// link points at deadUpstream since the kill either way.
	up, err := upstreamOf(sctx, s.c)
	if err != nil {
		return err
	}
	if l := s.links.get(s.name); l != nil {
		if err := l.SetUpstream(sctx, up); err != nil {
			return fmt.Errorf("point link %s at %s: %w", s.name, up, err)
		}
	}
	s.mu2.Lock()
	s.upstream = up
	s.mu2.Unlock()
	cl, err := s.t.connect(sctx, s.c)
	if err != nil {
		return err
	}
	s.Hosted.SetClient(cl)
	s.Hosted.Rebase()
	if err := s.follow(sctx, cl); err != nil {
		return err
	}
	s.up = true
	s.rec.Record(history.Event{Source: history.SrcServer, Kind: history.KindRestart, Server: s.name})
	return nil
}
