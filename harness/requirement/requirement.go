// Package requirement lists faultline's conformance requirements. The IDs are
// fixed (docs/requirements.md): scenarios, results and reports name them.
package requirement

// Requirement is one numbered conformance requirement.
type Requirement struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// All requirements, in order.
var All = []Requirement{
	{"U1", "lifecycle: a closed session stays closed, every transition starts where the last ended, only legal transitions occur"},
	{"R1", "loss detection"},
	{"R2", "reconnection schedule"},
	{"R3", "recovery: same session, nothing lost or duplicated"},
	{"R4", "reconnect window"},
	{"R5", "reconnection timeout"},
	{"R6", "server retention"},
	{"R7", "reconnection opt-out"},
	{"R8", "deliberate close"},
	{"R9", "strategy reset"},
	{"F1", "autofailover to the next server"},
	{"F2", "failover goes on down the list"},
	{"F3", "load balancing: uniform shuffle"},
	{"F4", "list order without load balancing"},
	{"C1", "cascade in list order"},
	{"C2", "every server failed: close naming each"},
	{"C3", "cascading before, failover after"},
	{"M1", "migration moves the session"},
	{"M2", "handoff window, no loss"},
	{"M3", "in-batch migration"},
	{"M4", "attention during migration"},
	{"M5", "failed migration stays on the source"},
	{"M6", "migration disconnect is not a failure"},
	{"T1", "round robin"},
	{"T2", "skip unconnected and unwritable"},
	{"T3", "500 when none is available"},
	{"T4", "close edges when every instance is lost"},
	{"T5", "multi-part affinity"},
	{"T6", "discovery at run time"},
}

// IDs lists the requirement IDs in order.
func IDs() []string {
	out := make([]string, len(All))
	for i, r := range All {
		out[i] = r.ID
	}
	return out
}

// Title returns a requirement's title, or "".
func Title(id string) string {
	for _, r := range All {
		if r.ID == id {
			return r.Title
		}
	}
	return ""
}
