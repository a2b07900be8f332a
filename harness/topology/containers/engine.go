package containers

import (
	"context"
	"fmt"
	"os"
	"time"

	dclient "github.com/docker/docker/client"
	tc "github.com/testcontainers/testcontainers-go"
)

// Available says whether a Docker engine answers and has the images; the
// error is the reason to give when it does not.
func Available(ctx context.Context, images ...string) error {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		// testcontainers tries DOCKER_HOST and, when it does not answer,
		// goes on to the local socket (seen here: DOCKER_HOST=unix:///nonexistent
		// ran on /var/run/docker.sock): a run on an engine the user did not
		// name. An engine named explicitly must answer.
		if err := pingEnv(ctx); err != nil {
			return fmt.Errorf("no Docker engine answers at DOCKER_HOST=%s: %w", h, err)
		}
	}
	cli, err := tc.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("no Docker engine: %w", err)
	}
	defer cli.Close()
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := cli.Ping(pctx); err != nil {
		return fmt.Errorf("no Docker engine answers: %w", err)
	}
	if len(images) == 0 {
		images = []string{DefaultServeImage}
	}
	for _, img := range images {
		if _, err := cli.ImageInspect(pctx, img); err != nil {
			return fmt.Errorf("image %s is not here (build it: make images): %w", img, err)
		}
	}
	return nil
}

// pingEnv pings the engine the environment names (DOCKER_HOST and friends).
func pingEnv(ctx context.Context) error {
	cli, err := dclient.NewClientWithOpts(dclient.FromEnv, dclient.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer cli.Close()
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err = cli.Ping(pctx)
	return err
}
