package containers

import (
	"context"
	"fmt"
	"time"

	tc "github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
)

// network makes the topology's private network, labelled as its containers
// are, after removing what dead runs left (sweepOrphans). sctx bounds the
// Docker calls (createContext); ctx's cancellation is honoured after them.
func (t *Topology) network(ctx, sctx context.Context) (*tc.DockerNetwork, error) {
	octx, ocancel := context.WithTimeout(sctx, 5*time.Second)
	err := sweepOrphans(octx)
	ocancel()
	if err != nil {
		t.opts.Logf("containers: removing what dead runs left: %v", err)
	}
	nw, err := tcnetwork.New(sctx, tcnetwork.WithLabels(t.labels()))
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	t.mu.Lock()
	t.nw = nw
	t.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return nw, nil
}
