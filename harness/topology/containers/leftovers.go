package containers

import (
	"context"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dnetwork "github.com/docker/docker/api/types/network"
	tc "github.com/testcontainers/testcontainers-go"
)

// Leftovers lists what of this topology is still there: container and
// network names. After Close it must be empty.
func (t *Topology) Leftovers(ctx context.Context) (containers, networks []string, err error) {
	return LeftoversLabelled(ctx, LabelRun+"="+t.run)
}

// LeftoversLabelled lists containers and networks carrying label
// ("key=value", or "key" for any value).
func LeftoversLabelled(ctx context.Context, label string) (containers, networks []string, err error) {
	cli, err := tc.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer cli.Close()
	f := filters.NewArgs(filters.Arg("label", label))
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, nil, err
	}
	for _, c := range cs {
		containers = append(containers, short(c.ID)+" "+strings.Join(c.Names, ","))
	}
	ns, err := cli.NetworkList(ctx, dnetwork.ListOptions{Filters: f})
	if err != nil {
		return containers, nil, err
	}
	for _, n := range ns {
		networks = append(networks, n.Name)
	}
	return containers, networks, nil
}
