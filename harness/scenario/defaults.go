package scenario

import "time"

// Defaults the whole harness agrees on (fake servers, engine options, checkers).
const (
	DefaultPing           = 100 * time.Millisecond
	DefaultRetention      = 60 * time.Second // server maximum (Diffusion Cloud keeps sessions 60 s)
	DefaultTimeout        = 60 * time.Second // reconnect timeout (Diffusion JS client default)
	DefaultBuffer         = 1024
	DefaultConnectTimeout = 2 * time.Second
)

// PingPeriod is the server's ping period with its default.
func (s Server) PingPeriod() time.Duration {
	if s.Ping > 0 {
		return s.Ping
	}
	return DefaultPing
}

// MaxRetention is the server's maximum retention with its default.
func (s Server) MaxRetention() time.Duration {
	if s.Retention > 0 {
		return s.Retention
	}
	return DefaultRetention
}

// ReconnectTimeout is the client's overall reconnect timeout with its default.
func (c Client) ReconnectTimeout() time.Duration {
	if c.Reconnect.Timeout > 0 {
		return c.Reconnect.Timeout
	}
	return DefaultTimeout
}

// RequestedRetention is what the client asks the server to keep its session for.
func (c Client) RequestedRetention() time.Duration {
	if c.Reconnect.Retention > 0 {
		return c.Reconnect.Retention
	}
	return c.ReconnectTimeout()
}

// IdleBound is how long the client waits in silence before declaring the
// connection dead: its liveness option, else 2 × the server's ping period.
func (c Client) IdleBound(server Server) time.Duration {
	if c.Liveness > 0 {
		return c.Liveness
	}
	return 2 * server.PingPeriod()
}

// GrantedRetention is min(requested, server maximum).
func GrantedRetention(c Client, s Server) time.Duration {
	r := c.RequestedRetention()
	if m := s.MaxRetention(); m < r {
		return m
	}
	return r
}
