package main

import (
	"bufio"
	"encoding/json"
	"io"
	"sync"
)

// kit.Op carries no request op's rows nor cancel op's request
// (docs/driver-protocol.md, "Streaming requests and migration"), and
// kit.Event no row or done fields. The driver reads those two op fields
// itself from each line on its way to kit.Serve, keyed by the op's id, and
// writes row and done events of its own type.

// opExtra is what the driver reads of an op beyond kit.Op.
type opExtra struct {
	Rows    int64 `json:"rows"`
	Request int64 `json:"request"`
}

// extras holds the extra fields of the ops read and not yet handled.
type extras struct {
	mu sync.Mutex
	m  map[int64]opExtra
}

// take is (and forgets) op id's extra fields.
func (x *extras) take(id int64) opExtra {
	x.mu.Lock()
	defer x.mu.Unlock()
	e := x.m[id]
	delete(x.m, id)
	return e
}

// maxExtraLine bounds the lines read for extras: kit.Serve refuses longer
// ones (docs: a line is at most 1 MiB) and they pass through unread.
const maxExtraLine = 1<<20 + 2

// tee passes in through unchanged and records the extra fields of every
// request and cancel op before its line reaches the reader it returns (so
// before kit.Serve hands the op to Do). stop ends the returned reader as
// the end of input would (kit's reader, still reading after an exit op,
// sees a plain EOF, not an error to report).
func (x *extras) tee(in io.Reader) (r io.Reader, stop func()) {
	pr, pw := io.Pipe()
	go func() {
		br := bufio.NewReaderSize(in, 64<<10)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				x.note(line)
				if _, werr := pw.Write(line); werr != nil {
					return
				}
			}
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return pr, func() { pw.Close() }
}

func (x *extras) note(line []byte) {
	if len(line) > maxExtraLine {
		return
	}
	var o struct {
		ID *int64 `json:"id"`
		Op string `json:"op"`
		opExtra
	}
	if json.Unmarshal(line, &o) != nil || o.ID == nil || (o.Op != "request" && o.Op != "cancel") {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.m == nil {
		x.m = map[int64]opExtra{}
	}
	x.m[*o.ID] = o.opExtra
}

// reqEvent is a row or done event of a streaming request.
type reqEvent struct {
	Type      string `json:"type"`
	Request   int64  `json:"request"`
	N         int64  `json:"n,omitempty"`
	Cancelled bool   `json:"cancelled,omitempty"`
	Client    *int   `json:"client,omitempty"`
}
