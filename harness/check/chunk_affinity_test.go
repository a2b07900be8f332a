package check

import "testing"

// multipart sends the first `sent` parts of a message of `parts` at ms,
// ms+20, … each routed to and received by to[0] (or to[i] when given); it
// returns the message id.
func (r *rt) multipart(ms float64, parts, sent int, to ...string) string {
	id := ""
	for k := 1; k <= sent; k++ {
		inst := to[0]
		if k-1 < len(to) {
			inst = to[k-1]
		}
		t := ms + float64(k-1)*20
		op := r.sendOp(t, id, k, parts, 100, true)
		if id == "" {
			id = op
		}
		r.route(t+0.1, id, k, parts, inst)
		r.recv(t+0.5, id, k, parts, inst, 180)
	}
	return id
}

func TestChunkAffinity(t *testing.T) {
	ca := &ChunkAffinity{}

	ok := newRT("s1", "s2")
	a := ok.multipart(10, 3, 3, "s1")
	ok.send(15, "s2") // the rotation goes on between the parts
	ok.resp(51, a, 200, "s1")

	moved := newRT("s1", "s2")
	a = moved.multipart(10, 3, 3, "s1", "s2", "s1")
	moved.resp(51, a, 200, "s1")

	// s1 dies after part 2: part 3 fails the request, and goes nowhere.
	dies := func(status int, part3 string) *rt {
		r := newRT("s1", "s2")
		a := r.multipart(300, 3, 2, "s1")
		r.cut(325, "s1")
		r.sendOp(340, a, 3, 3, 100, true)
		if part3 != "" {
			r.route(340.1, a, 3, 3, part3)
			r.recv(340.5, a, 3, 3, part3, 180)
		}
		if status != 0 {
			r.resp(340.2, a, status, "s1")
		}
		return r
	}
	failed := dies(502, "")
	fake200 := dies(200, "")
	elsewhere := dies(502, "s2")
	forgotten := dies(0, "")

	causeless := newRT("s1", "s2")
	a = causeless.multipart(300, 3, 2, "s1")
	causeless.sendOp(340, a, 3, 3, 100, true)
	causeless.resp(340.2, a, 502, "s1")

	runRouteCases(t, 2, []tcase{
		{name: "every part on the first part's instance", cfg: ca, h: ok.hist(), verdict: OK},
		{name: "moves chunk 2 to another instance", cfg: ca, h: moved.hist(), verdict: Failed,
			detail: []string{"message 3: part 2 was routed to s2, but part 1 went to s1",
				"message 3: part 2 was received by s2 at 30.5ms, but part 1 by s1 (server)"}},
		{name: "its instance dies halfway: failed", cfg: &ChunkAffinity{ExpectFailed: 1}, h: failed.hist(), verdict: OK},
		{name: "its instance dies halfway: answered 200", cfg: ca, h: fake200.hist(), verdict: Failed,
			detail: []string{"message 3 was answered 200 though its instance went before its last part: connection s1#1 closed at 325.5ms (server)"}},
		{name: "its instance dies halfway: a part delivered elsewhere", cfg: ca, h: elsewhere.hist(), verdict: Failed,
			detail: []string{"message 3: part 3 was received by s2 at 340.5ms, but part 1 by s1 (server)"}},
		{name: "its instance dies halfway: never failed", cfg: ca, h: forgotten.hist(), verdict: Failed,
			detail: []string{"message 3: its instance went (connection s1#1 closed at 325.5ms (server)) and the request was never failed"}},
		{name: "failed without a cause", cfg: ca, h: causeless.hist(), verdict: Failed,
			detail: []string{"message 3 failed (502 ) at 340.2ms, but s1 was connected, writable and not removed"}},
		{name: "no failure where the scenario wants one", cfg: &ChunkAffinity{ExpectFailed: 1}, h: ok.hist(), verdict: Failed,
			detail: []string{"0 multi-part requests failed, the scenario expects at least 1"}},
	})
}
