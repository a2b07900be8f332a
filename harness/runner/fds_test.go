package runner

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/driver"
	"github.com/faultline/faultline/harness/driver/godriver"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/harness/topology"
)

// elsewhere is a topology whose servers and links are not in this process.
type elsewhere struct{ topology.Topology }

func fdRun(clients int, topo topology.Topology, drv driver.Driver) *run {
	t := &run{sc: &scenario.Scenario{Name: "fds", Clients: clients}, cfg: Config{Topology: topo}}
	if drv != nil {
		t.clients = []*clientRunner{{run: t, drv: drv}}
	}
	return t
}

func TestDescriptorsPerClient(t *testing.T) {
	engine := godriver.New(1, 1, func(driver.Event) {})
	for _, c := range []struct {
		name string
		topo topology.Topology
		drv  driver.Driver
		want int
	}{
		{"embedded, in-process engine", nil, engine, 4},
		{"embedded value, in-process engine", topology.Embedded{}, engine, 4},
		{"embedded, driver processes", nil, nil, 3},
		{"servers elsewhere, in-process engine", elsewhere{}, engine, 1},
		{"servers elsewhere, driver processes", elsewhere{}, nil, 0},
	} {
		if got := fdRun(10, c.topo, c.drv).fdsPerClient(); got != c.want {
			t.Errorf("%s: %d descriptors a client, want %d", c.name, got, c.want)
		}
	}
}

func TestDescriptorsFitASmallRun(t *testing.T) {
	if why := fdRun(100, nil, godriver.New(1, 1, func(driver.Event) {})).descriptorsShort(); why != "" {
		t.Fatalf("100 clients: %s", why)
	}
}

// A million in-process clients need 4.4 million descriptors: more than
// Linux lets any process raise its limit to (fs.nr_open is 1,048,576 by
// default), so this holds on every machine, privileged or not.
func TestDescriptorsShortOfAMillionClients(t *testing.T) {
	why := fdRun(1_000_000, nil, godriver.New(1, 1, func(driver.Event) {})).descriptorsShort()
	for _, want := range []string{"needs about 4100256 open files", "1000000 clients × 4 descriptors", "RLIMIT_NOFILE soft", "raise the hard limit"} {
		if !strings.Contains(why, want) {
			t.Errorf("missing %q in %q", want, why)
		}
	}
	// Nothing in this process: nothing to budget.
	if why := fdRun(1_000_000, elsewhere{}, nil).descriptorsShort(); why != "" {
		t.Errorf("nothing held here, yet: %s", why)
	}
}
