package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/faultline/faultline/fakeserver/control"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/harness/topology"
	"github.com/faultline/faultline/harness/topology/containers"
)

// modeFlags are run's choice of topology: where the fake servers and
// Toxiproxy run. The scenarios are the same in every mode.
type modeFlags struct {
	mode      *string
	toxiproxy *string
	topology  *string
}

func addModeFlags(fs *flag.FlagSet) *modeFlags {
	return &modeFlags{
		mode:      fs.String("mode", "embedded", "where servers and Toxiproxy run: embedded (in-process), containers (Docker, images from make images), external (--toxiproxy, --topology)"),
		toxiproxy: fs.String("toxiproxy", "", "external mode: the Toxiproxy API URL (overrides the topology file's)"),
		topology:  fs.String("topology", "", "external mode: the topology file (servers' upstreams, serve control URL, link ports; see docker/external.yaml)"),
	}
}

// delayer is a topology whose server events stream in over the network.
type delayer interface {
	Delays() control.DelaySummary
}

// open makes the topology. The returned close is to be deferred while the
// interrupt signal is still caught: it removes every container on success,
// failure and Ctrl-C alike, and reports the event delay of streamed modes.
func (m *modeFlags) open(ctx context.Context, stderr io.Writer) (topology.Topology, func(), error) {
	if *m.mode != "external" && (*m.toxiproxy != "" || *m.topology != "") {
		return nil, nil, errors.New("--toxiproxy and --topology belong to --mode external")
	}
	report := func(t topology.Topology) {
		if d, ok := t.(delayer); ok {
			fmt.Fprintf(stderr, "faultline: %s mode: server events reached the harness after %s\n", t.Name(), d.Delays())
		}
	}
	switch *m.mode {
	case "", "embedded":
		return nil, func() {}, nil // the runner's default
	case "containers":
		if err := containers.Available(ctx); err != nil {
			return nil, nil, fmt.Errorf("--mode containers: %w", err)
		}
		t := containers.New(containers.Options{})
		return t, func() {
			report(t)
			// Not the run's context: it is cancelled by the very interrupt
			// whose leftovers this removes.
			cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := t.Close(cctx); err != nil {
				fmt.Fprintf(stderr, "faultline: containers cleanup: %v\n", err)
			}
		}, nil
	case "external":
		if *m.topology == "" {
			return nil, nil, errors.New("--mode external needs --topology FILE (see docker/external.yaml)")
		}
		t, err := topology.NewExternal(*m.topology, *m.toxiproxy)
		if err != nil {
			return nil, nil, fmt.Errorf("--mode external: %w", err)
		}
		return t, func() { report(t) }, nil
	}
	return nil, nil, fmt.Errorf("--mode %q: want embedded, containers or external", *m.mode)
}

// refusedAll is why the mode can run none of scs ("" when it can run one):
// a selection that is nothing but scenarios the mode refuses is bad input,
// not a run whose every result is UNSUPPORTED. A mixed selection runs, the
// refused ones reported UNSUPPORTED.
func refusedAll(t topology.Topology, scs []*scenario.Scenario) string {
	var whys []string
	for _, sc := range scs {
		why := topology.Refuses(t, sc)
		if why == "" {
			return ""
		}
		whys = append(whys, sc.Name+": "+why)
	}
	return strings.Join(whys, "; ")
}
