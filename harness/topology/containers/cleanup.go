package containers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dnetwork "github.com/docker/docker/api/types/network"
	tc "github.com/testcontainers/testcontainers-go"
)

// Close removes every container and the network, also those whose creation
// an interrupt cut short (found by label). It is safe to call more than once
// and bounded by ctx.
func (t *Topology) Close(ctx context.Context) error {
	t.waitPending(ctx) // what is left after ctx is removed below, or by the sweep
	t.mu.Lock()
	t.closed = true
	bg := t.bgErrs
	t.bgErrs = nil
	live := make([]tc.Container, 0, len(t.live))
	for _, c := range t.live {
		live = append(live, c)
	}
	t.live = map[string]tc.Container{}
	nw := t.nw
	t.nw, t.lc = nil, nil
	if t.lctl != nil {
		t.lctl.Close()
		t.lctl = nil
	}
	t.mu.Unlock()

	var mu sync.Mutex
	errs := bg
	var wg sync.WaitGroup
	for _, c := range live {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Terminate(ctx, tc.StopTimeout(0)); err != nil && !notFound(err) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("remove container %s: %w", short(c.GetContainerID()), err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if nw != nil {
		if err := retryBusy(ctx, func() error { return nw.Remove(ctx) }); err != nil && !notFound(err) {
			errs = append(errs, fmt.Errorf("remove network: %w", err))
		}
	}
	if err := t.sweep(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// sweep removes whatever still carries this topology's label.
func (t *Topology) sweep(ctx context.Context) error {
	cli, err := tc.NewDockerClientWithOpts(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	f := filters.NewArgs(filters.Arg("label", LabelRun+"="+t.run))
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	var errs []error
	for _, c := range cs {
		if err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !notFound(err) {
			errs = append(errs, fmt.Errorf("remove container %s: %w", short(c.ID), err))
		}
	}
	ns, err := cli.NetworkList(ctx, dnetwork.ListOptions{Filters: f})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list networks: %w", err))...)
	}
	for _, n := range ns {
		if err := retryBusy(ctx, func() error { return cli.NetworkRemove(ctx, n.ID) }); err != nil && !notFound(err) {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
		}
	}
	return errors.Join(errs...)
}

// sweepOrphans removes the containers and networks of faultline runs on this
// host whose process is gone. A process that is alive (or whose pid was
// reused) keeps its own.
func sweepOrphans(ctx context.Context) error {
	cli, err := tc.NewDockerClientWithOpts(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	host, _ := os.Hostname()
	orphan := func(labels map[string]string) bool {
		pid, err := strconv.Atoi(labels[LabelPID])
		if err != nil || labels[LabelHost] != host || pid == os.Getpid() {
			return false
		}
		return syscall.Kill(pid, 0) == syscall.ESRCH
	}
	f := filters.NewArgs(filters.Arg("label", LabelRun))
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range cs {
		if orphan(c.Labels) {
			if err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil && !notFound(err) {
				errs = append(errs, err)
			}
		}
	}
	ns, err := cli.NetworkList(ctx, dnetwork.ListOptions{Filters: f})
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, n := range ns {
		if orphan(n.Labels) {
			if err := retryBusy(ctx, func() error { return cli.NetworkRemove(ctx, n.ID) }); err != nil && !notFound(err) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// retryBusy retries a network removal that Docker refuses because an
// endpoint is still attached: the engine releases a removed container's
// endpoint a moment after the removal returns.
func retryBusy(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil || !strings.Contains(err.Error(), "active endpoints") {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func notFound(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "No such container") || strings.Contains(err.Error(), "not found") ||
		strings.Contains(err.Error(), "is already in progress"))
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
