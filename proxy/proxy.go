package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// Toxiproxy is a set of links: embedded or remote.
type Toxiproxy interface {
	// Link creates a named link in front of upstream ("host:port"), listening
	// on port 0 of the configured host; Addr reports the real address.
	Link(ctx context.Context, name, upstream string) (*Link, error)
	// Close heals what is still in force, removes every link it made and
	// stops everything it started.
	Close() error
}

// Direction picks the stream(s) a fault acts on.
type Direction string

const (
	Both       Direction = "both"       // both streams (the default)
	Upstream   Direction = "upstream"   // client → server
	Downstream Direction = "downstream" // server → client
)

// streams maps a direction onto Toxiproxy's stream names.
func (d Direction) streams() ([]string, error) {
	switch d {
	case "", Both:
		return []string{string(Upstream), string(Downstream)}, nil
	case Upstream, Downstream:
		return []string{string(d)}, nil
	}
	return nil, fmt.Errorf("proxy: unknown direction %q (want both, upstream or downstream)", string(d))
}

// FaultID names one applied fault, unique within its Toxiproxy.
type FaultID uint64

var (
	// ErrClosed is returned once the Toxiproxy (and so its links) is closed.
	ErrClosed = errors.New("proxy: closed")
	// ErrUnknownFault is returned by Heal for an id not in force on the link.
	ErrUnknownFault = errors.New("proxy: no such fault in force")
)

// checkUpstream rejects what Toxiproxy would only fail on per connection.
func checkUpstream(upstream string) error {
	if _, _, err := net.SplitHostPort(upstream); err != nil {
		return fmt.Errorf("proxy: upstream %q: %w", upstream, err)
	}
	return nil
}

// checkName keeps names safe as toxic names and as a URL path segment, since
// the remote client pastes them into paths unescaped.
func checkName(name string) error {
	if name == "" {
		return errors.New("proxy: empty link name")
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return fmt.Errorf("proxy: link name %q: only letters, digits, '-', '_' and '.' allowed", name)
		}
	}
	return nil
}
