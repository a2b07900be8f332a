package control

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// SetPeers gives the named session server its context store and the URLs
// of its peers.
func (c *Client) SetPeers(ctx context.Context, name string, p Peers) error {
	return c.capability(ctx, name, ActPeers, p, nil)
}

// Migrate asks the named server's sessions to move to server to.
func (c *Client) Migrate(ctx context.Context, name, to string, hold time.Duration) (int, error) {
	var out struct {
		Asked int `json:"asked"`
	}
	err := c.capability(ctx, name, ActMigrate, Migrate{To: to, Hold: Duration(hold)}, &out)
	return out.Asked, err
}

// CancelMigration cancels the named server's migrations not yet started.
func (c *Client) CancelMigration(ctx context.Context, name string) (int, error) {
	var out struct {
		Cancelled int `json:"cancelled"`
	}
	err := c.capability(ctx, name, ActCancelMigrate, nil, &out)
	return out.Cancelled, err
}

// PaceRows sets the named server's row pacing.
func (c *Client) PaceRows(ctx context.Context, name string, every time.Duration) error {
	return c.capability(ctx, name, ActPaceRows, Pace{Every: Duration(every)}, nil)
}

// Migrate asks the server's sessions to migrate (the runner's migrate step).
func (s *Server) Migrate(to string, hold time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	return s.Client().Migrate(ctx, s.name, to, hold)
}

// CancelMigration cancels migrations not yet started; a failure of the API
// is recorded.
func (s *Server) CancelMigration() int {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	n, err := s.Client().CancelMigration(ctx, s.name)
	if err != nil {
		s.rec.Record(history.Event{Source: history.SrcHarness, Kind: history.KindError, Server: s.name,
			Reason: "cancel migration on " + s.name + ": " + err.Error()})
	}
	return n
}

// PaceRows sets the row pacing, once per value: every request op of every
// client sets it, and a call across processes each time would add up.
func (s *Server) PaceRows(every time.Duration) {
	s.mu.Lock()
	same := s.paced == every
	s.mu.Unlock()
	if same {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	err := s.Client().PaceRows(ctx, s.name, every)
	var se *StatusError
	if errors.As(err, &se) && se.Status == http.StatusConflict {
		return // a kind that streams no rows: nothing to pace, as in process
	}
	if err != nil {
		s.rec.Record(history.Event{Source: history.SrcHarness, Kind: history.KindError, Server: s.name,
			Reason: "pace rows on " + s.name + ": " + err.Error()})
		return
	}
	s.mu.Lock()
	s.paced = every
	s.mu.Unlock()
}
