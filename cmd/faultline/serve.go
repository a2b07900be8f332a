package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/faultline/faultline/fakeserver/control"
)

// serverFlags collects repeated --server specs.
type serverFlags []control.ServerConfig

func (s *serverFlags) String() string { return fmt.Sprint(len(*s)) }

// Set parses "s1,kind=session,listen=:7000,ping=100ms,retention=2s,buffer=64".
func (s *serverFlags) Set(v string) error {
	c, err := parseServerSpec(v)
	if err != nil {
		return err
	}
	*s = append(*s, c)
	return nil
}

func parseServerSpec(v string) (control.ServerConfig, error) {
	parts := strings.Split(v, ",")
	c := control.ServerConfig{Name: strings.TrimPrefix(parts[0], "name=")}
	if c.Name == "" || strings.Contains(c.Name, "=") {
		return c, fmt.Errorf("server spec %q: start with the name, e.g. s1,kind=session,listen=:7000", v)
	}
	for _, kv := range parts[1:] {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			return c, fmt.Errorf("server spec %q: %q is not key=value", v, kv)
		}
		var err error
		switch k {
		case "kind":
			c.Kind = val
		case "listen":
			c.Listen = val
		case "ping", "retention":
			var d time.Duration
			if d, err = time.ParseDuration(val); err == nil {
				if k == "ping" {
					c.Ping = control.Duration(d)
				} else {
					c.Retention = control.Duration(d)
				}
			}
		case "buffer":
			c.Buffer, err = strconv.Atoi(val)
		default:
			return c, fmt.Errorf("server spec %q: unknown key %q (kind, listen, ping, retention, buffer)", v, k)
		}
		if err != nil {
			return c, fmt.Errorf("server spec %q: %s: %w", v, k, err)
		}
	}
	return c, nil
}

// cmdServe runs fake servers behind the control API until interrupted: the
// process that containers and docker-compose run. With --links it also hosts
// links (an embedded Toxiproxy behind Toxiproxy's own HTTP API), whose
// accepts and failed dials go into the event stream; servers are then optional.
func cmdServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("serve", stderr) // flags.go
	ctl := fs.String("control", "127.0.0.1:0", "address of the control API (events, publish, close, reset)")
	links := fs.String("links", "", "host links too: serve Toxiproxy's HTTP API on this address (e.g. :8474); their link.accept and link.dial_fail go into the event stream")
	cfgFile := fs.String("config", "", `JSON file: a list of servers [{"name":"s1","kind":"session","listen":":7001","ping":"100ms"}]`)
	var servers serverFlags
	fs.Var(&servers, "server", "a server: name,kind=session,listen=HOST:PORT,ping=D,retention=D,buffer=N (repeatable)")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if *cfgFile != "" {
		b, err := os.ReadFile(*cfgFile)
		if err != nil {
			fmt.Fprintf(stderr, "faultline serve: %v\n", err)
			return 2
		}
		var more []control.ServerConfig
		if err := json.Unmarshal(b, &more); err != nil {
			fmt.Fprintf(stderr, "faultline serve: %s: %v\n", *cfgFile, err)
			return 2
		}
		servers = append(servers, more...)
	}
	if len(servers) == 0 && *links == "" {
		fmt.Fprintln(stderr, "faultline serve: name at least one --server (or --config), or host --links")
		return 2
	}
	h, err := control.NewHost(servers)
	if err != nil {
		fmt.Fprintf(stderr, "faultline serve: %v\n", err)
		return 2
	}
	if *links != "" {
		lln, err := net.Listen("tcp", *links)
		if err == nil {
			err = h.ServeLinks(lln)
			if err != nil {
				lln.Close()
			}
		}
		if err != nil {
			_ = h.Close()
			fmt.Fprintf(stderr, "faultline serve: links: %v\n", err)
			return 2
		}
	}
	ln, err := net.Listen("tcp", *ctl)
	if err != nil {
		_ = h.Close()
		fmt.Fprintf(stderr, "faultline serve: control: %v\n", err)
		return 2
	}
	// What a human or a script needs to find things; the harness asks /health.
	fmt.Fprintf(stdout, "control http://%s\n", ln.Addr())
	if a := h.LinksAddr(); a != "" {
		fmt.Fprintf(stdout, "links http://%s\n", a)
	}
	for _, s := range servers {
		addr, _ := h.Addr(s.Name)
		fmt.Fprintf(stdout, "server %s %s\n", s.Name, addr)
	}
	// SIGTERM too: in a container this process is PID 1, which gets no
	// default signal handling from the kernel.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := h.Serve(ctx, ln); err != nil && !errors.Is(err, net.ErrClosed) {
		fmt.Fprintf(stderr, "faultline serve: %v\n", err)
		return 1
	}
	return 0
}

func init() {
	register(&command{name: "serve", summary: "serve fake servers and a control API for an external-mode run", flags: true,
		usage: `faultline serve [--control ADDR] [--links ADDR] --server NAME,kind=KIND,listen=HOST:PORT,... [--config FILE]

Prints the control URL, the links' API URL and each server's address, then
serves until interrupted (SIGINT or SIGTERM).`, run: cmdServe})
}
