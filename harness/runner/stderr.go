package runner

// DriverStderr is what one driver process of a scenario wrote on stderr,
// as far as its driver kept it (stdio.KeepStderr: `faultline run
// --driver-stderr`): a driver's own log is evidence even when nothing
// failed.
type DriverStderr struct {
	// Client is the first client the process served; Clients, for a
	// multi-session process, every client it hosted.
	Client  int   `json:"client"`
	Clients []int `json:"clients,omitempty"`
	PID     int   `json:"pid"`
	// Text is the end of what it wrote: all of it unless Truncated, when
	// Bytes (everything written) is more than was kept.
	Text      string `json:"text"`
	Truncated bool   `json:"truncated,omitempty"`
	Bytes     int64  `json:"bytes"`
}

// stderrKeeper is a driver that keeps its process's stderr (a stdio
// driver, or a client's view onto a multi-session process).
type stderrKeeper interface {
	PID() int
	KeptStderr() (text string, total int64, ok bool)
}

// keptStderr collects the stderr every driver process of the run kept, once
// per process (clients sharing one name the same pid), in client order;
// processes that wrote nothing are left out.
func (t *run) keptStderr() []DriverStderr {
	byPID := map[int]int{} // pid → index in out
	var out []DriverStderr
	for _, c := range t.clients { // in client order (startDrivers)
		k, ok := c.drv.(stderrKeeper)
		if !ok {
			continue
		}
		if i, seen := byPID[k.PID()]; seen {
			out[i].Clients = append(out[i].Clients, c.idx)
			continue
		}
		text, total, kept := k.KeptStderr()
		if !kept {
			continue
		}
		byPID[k.PID()] = len(out)
		out = append(out, DriverStderr{Client: c.idx, Clients: []int{c.idx}, PID: k.PID(), Text: text,
			Truncated: total > int64(len(text)), Bytes: total})
	}
	var nonEmpty []DriverStderr
	for _, d := range out {
		if len(d.Clients) == 1 {
			d.Clients = nil // one client: Client says it
		}
		if d.Bytes > 0 {
			nonEmpty = append(nonEmpty, d)
		}
	}
	return nonEmpty
}
