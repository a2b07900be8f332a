package proxy

import (
	"encoding/json"
	"io"

	"github.com/rs/zerolog"

	"github.com/faultline/faultline/harness/history"
)

// Link accepts. A fake server stamps its accept when its accept goroutine
// runs, which may be milliseconds after the kernel completed the handshake
// (seen: 3.3ms under -race, after the client's next three attempts through
// other links). Server accepts therefore order one client's attempts across
// servers only to within a slack. The link sees each attempt first, in the
// client's order: Toxiproxy's accept loop takes the client's connection,
// then dials the server, then starts the toxics that may fail the client.
// So an embedded link records link.accept when it takes the connection,
// before the dial, and link.dial_fail when the dial fails (no server saw
// that attempt).
//
// Toxiproxy v2 offers no accept hook but its proxy logger, which it calls
// synchronously in the accept loop, before the dial. Each link gets a logger
// whose writer turns those two log lines into history events (proxy tests
// fail if an upgrade renames them). Links made over an Embedded's HTTP API
// (Embedded.API, which `faultline serve --links` serves) log through the
// server's logger with their name added, and are recorded under that name;
// so links hosted by a serve process record accepts into its event stream.
// A stock Toxiproxy's logs stay on its side: its links record no accepts,
// and checkers fall back to the servers'.
//
// Its accept loop also ends, for good, at the first accept error that is
// not its own stop (a process out of descriptors: accept4: too many open
// files), with one warning; that line is recorded as link.dead, since what
// clients meet after it is the harness's failure, not theirs.
const (
	msgAccepted     = "Accepted client"
	msgDialFailed   = "Unable to open connection to upstream"
	msgAcceptFailed = "Error while accepting client"
)

// acceptLog is the io.Writer behind an embedded link's Toxiproxy logger.
type acceptLog struct {
	link string // "": the line's own name field (the API server's logger)
	rec  history.Recorder
	echo io.Writer // Toxiproxy's own log output when Logging is on; nil otherwise
}

// logLine is what acceptLog reads of a zerolog JSON line.
type logLine struct {
	Message string `json:"message"`
	Name    string `json:"name"` // the proxy's, on lines of links made over the API
	Client  string `json:"client"`
	Error   string `json:"error"`
}

// Write is called once per log event with one whole JSON line.
func (a *acceptLog) Write(p []byte) (int, error) {
	var l logLine
	if err := json.Unmarshal(p, &l); err == nil {
		link := a.link
		if link == "" {
			link = l.Name
		}
		switch {
		case link == "":
		case l.Message == msgAccepted:
			a.rec.Record(history.Event{Source: history.SrcLink, Kind: history.KindLinkAccept, Link: link, Conn: l.Client})
		case l.Message == msgDialFailed:
			a.rec.Record(history.Event{Source: history.SrcLink, Kind: history.KindLinkDialFail, Link: link, Conn: l.Client, Reason: l.Error})
		case l.Message == msgAcceptFailed:
			a.rec.Record(history.Event{Source: history.SrcLink, Kind: history.KindLinkDead, Link: link, Reason: l.Error})
		}
	}
	if a.echo != nil {
		return a.echo.Write(p)
	}
	return len(p), nil
}

// linkLogger is the logger an embedded link's proxy logs through: Info, the
// level of the accept line. Process-wide, zerolog's global level must let
// Info through (NewEmbedded sees to it).
func linkLogger(name string, rec history.Recorder, echo io.Writer) *zerolog.Logger {
	var w io.Writer = &acceptLog{link: name, rec: rec, echo: echo}
	l := zerolog.New(w).Level(zerolog.InfoLevel)
	if echo != nil {
		l = l.With().Timestamp().Str("name", name).Logger()
	}
	return &l
}
