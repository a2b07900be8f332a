package client

import (
	"context"
	"fmt"
	"net"
	"net/http"

	"github.com/coder/websocket"
	"github.com/faultline/faultline/wire"
)

// answer is the outcome of one attempt: the server's first frame, with the
// open connection when that frame is welcome or resumed.
type answer struct {
	ws       *websocket.Conn
	f        wire.Frame
	err      error
	rejected bool // the server answered, but not with a valid frame
}

// newHTTPClient is per session and keeps no idle connections, so nothing of
// it outlives Close.
func newHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:             nil, // the harness dials loopback links; an env proxy would distort them
		DialContext:       (&net.Dialer{}).DialContext,
		DisableKeepAlives: true,
	}}
}

// handshake dials url, sends hello and reads the answer, all bounded by ctx.
func handshake(ctx context.Context, hc *http.Client, url string, hello []byte) answer {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return answer{err: fmt.Errorf("dial %s: %w", url, err)}
	}
	ws.SetReadLimit(wire.MaxFrame)
	if err := ws.Write(ctx, websocket.MessageText, hello); err != nil {
		ws.CloseNow()
		return answer{err: fmt.Errorf("hello to %s: %w", url, err)}
	}
	typ, b, err := ws.Read(ctx)
	if err != nil {
		ws.CloseNow()
		return answer{err: fmt.Errorf("answer from %s: %w", url, err)}
	}
	f, err := wire.Decode(b)
	if err == nil && typ != websocket.MessageText {
		err = fmt.Errorf("%w: binary message", wire.ErrFrame)
	}
	if err != nil {
		ws.CloseNow()
		return answer{err: fmt.Errorf("%w: answer from %s: %v", ErrProtocol, url, err), rejected: true}
	}
	if f.T != wire.TWelcome && f.T != wire.TResumed {
		ws.CloseNow() // refused (the server closes too) or nonsense
		return answer{f: f}
	}
	return answer{ws: ws, f: f}
}

func (a answer) discard() {
	if a.ws != nil {
		a.ws.CloseNow()
	}
}
