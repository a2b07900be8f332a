package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// streamSilence bounds a read of the event stream: the host sends a
// heartbeat every second, so this much silence means the peer is gone.
const streamSilence = 5 * heartbeat

// Client talks to one Host's API. It has its own transport, so that closing
// its idle connections touches nobody else's.
type Client struct {
	base string
	tr   *http.Transport
	hc   *http.Client
}

// NewClient makes a client for the API at base ("http://host:port" or
// "host:port").
func NewClient(base string) *Client {
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}
	return &Client{base: strings.TrimRight(base, "/"), tr: tr, hc: &http.Client{Transport: tr}}
}

// URL is the API's base URL.
func (c *Client) URL() string { return c.base }

// Close drops the client's idle connections.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

// call does one request bounded by ctx and decodes a JSON answer into out.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		msg := resp.Status
		var ae apiError
		if json.Unmarshal(b, &ae) == nil && ae.Error != "" {
			msg = ae.Error
		}
		return &StatusError{Status: resp.StatusCode, Msg: fmt.Sprintf("%s %s: %s", method, path, msg)}
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// StatusError is an answer of the API other than 2xx.
type StatusError struct {
	Status int
	Msg    string
}

func (e *StatusError) Error() string { return e.Msg }

// Health asks once.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	if err := c.call(ctx, http.MethodGet, "/health", nil, &h); err != nil {
		return h, err
	}
	if h.API != APIVersion {
		return h, fmt.Errorf("control API version %d at %s, want %d (rebuild the images: make images)", h.API, c.base, APIVersion)
	}
	return h, nil
}

// WaitHealthy asks until the host answers or ctx ends.
func (c *Client) WaitHealthy(ctx context.Context) (Health, error) {
	for {
		h, err := c.Health(ctx)
		if err == nil || strings.Contains(err.Error(), "API version") {
			return h, err
		}
		select {
		case <-ctx.Done():
			return h, fmt.Errorf("control API at %s: %w (last: %v)", c.base, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Reset starts the named server again, fresh, with cfg.
func (c *Client) Reset(ctx context.Context, name string, cfg ServerConfig) (Reset, error) {
	var r Reset
	err := c.call(ctx, http.MethodPut, "/servers/"+name, cfg, &r)
	return r, err
}

// Publish publishes one message on the named server and returns its seq.
func (c *Client) Publish(ctx context.Context, name, topic string, data json.RawMessage) (int64, error) {
	var out struct {
		Seq int64 `json:"seq"`
	}
	err := c.capability(ctx, name, ActPublish, Publish{Topic: topic, Data: data}, &out)
	return out.Seq, err
}

// CloseSessions closes every session of the named server deliberately.
func (c *Client) CloseSessions(ctx context.Context, name string) error {
	return c.capability(ctx, name, ActCloseSessions, nil, nil)
}

// ErrStreamEnded is returned by Stream when the host ended the stream (it
// shut down, or its process died).
var ErrStreamEnded = errors.New("control: event stream ended")

// ErrGone is returned by Stream when the host no longer keeps the events
// from the asked position on: they cannot be had any more.
var ErrGone = errors.New("control: events no longer kept")

// errPartialLine: the stream broke inside a line. A bufio.Scanner hands the
// bytes read before a read error on as a last line; they are no event.
var errPartialLine = errors.New("the stream broke inside a line")

// scanWholeLines is bufio.ScanLines without its last, unterminated line.
func scanWholeLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return 0, nil, errPartialLine
	}
	return 0, nil, nil
}

// Stream reads the event stream from position from and hands each event to
// fn, in order, as it arrives. opened (if not nil) is called once the host
// has answered. It returns nil once ctx is done, and an error
// (ErrStreamEnded, a read error, or silence beyond the heartbeat bound)
// otherwise. Heartbeats are not handed on.
func (c *Client) Stream(ctx context.Context, from int64, fn func(Envelope), opened func()) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, c.base+"/events?from="+strconv.FormatInt(from, 10), nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		err := fmt.Errorf("GET /events: %s: %s", resp.Status, bytes.TrimSpace(b))
		if resp.StatusCode == http.StatusGone {
			err = fmt.Errorf("%w: %w", ErrGone, err)
		}
		return err
	}
	if opened != nil {
		opened()
	}
	// Every line re-arms the watchdog; silence past the bound cancels the read.
	var silent atomic.Bool
	watchdog := time.AfterFunc(streamSilence, func() { silent.Store(true); cancel() })
	defer watchdog.Stop()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	sc.Split(scanWholeLines)
	for sc.Scan() {
		watchdog.Reset(streamSilence)
		var env Envelope
		if err := json.Unmarshal(sc.Bytes(), &env); err != nil {
			return fmt.Errorf("event stream: bad line %q: %w", sc.Text(), err)
		}
		if env.N < 0 {
			continue // heartbeat
		}
		fn(env)
	}
	switch {
	case ctx.Err() != nil:
		return nil
	case silent.Load():
		return fmt.Errorf("event stream from %s: silent for %v", c.base, streamSilence)
	case sc.Err() != nil:
		return fmt.Errorf("event stream from %s: %w", c.base, sc.Err())
	}
	return ErrStreamEnded
}
