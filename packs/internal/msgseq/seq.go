// Package msgseq reads the sequence number a message carries, as faultline's
// drivers and publishers write it, for every pack's servers.
package msgseq

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Of is the sequence number a payload carries, as the drivers and the
// harness's publishers write it: {"n":N}, {"seq":N} or a bare integer; 0
// when none.
func Of(payload []byte) int64 {
	p := bytes.TrimSpace(payload)
	if len(p) == 0 {
		return 0
	}
	if p[0] != '{' {
		n, err := strconv.ParseInt(string(p), 10, 64)
		if err != nil {
			return 0
		}
		return n
	}
	var v struct {
		N   *int64 `json:"n"`
		Seq *int64 `json:"seq"`
	}
	if json.Unmarshal(p, &v) != nil {
		return 0
	}
	switch {
	case v.N != nil:
		return *v.N
	case v.Seq != nil:
		return *v.Seq
	}
	return 0
}
