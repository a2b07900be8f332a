package kit

// The states a driver reports (docs/driver-protocol.md).
const (
	Connecting     = "CONNECTING"
	Active         = "CONNECTED_ACTIVE"
	Recovering     = "RECOVERING_RECONNECT"
	ClosedByClient = "CLOSED_BY_CLIENT"
	ClosedByServer = "CLOSED_BY_SERVER"
	ClosedFailed   = "CLOSED_FAILED"
)

var phases = map[string]string{
	Connecting: "connecting", Active: "connected", Recovering: "recovering",
	ClosedByClient: "closed_by_client", ClosedByServer: "closed_by_server", ClosedFailed: "closed_failed",
}

// Phase is a state's neutral phase ("" for no state).
func Phase(state string) string { return phases[state] }

// IsClosed tells the three closed states, after which nothing follows.
func IsClosed(s string) bool { return s == ClosedByClient || s == ClosedByServer || s == ClosedFailed }

// Legal is the lifecycle rule U1's transition table: from "" (no state
// yet) only CONNECTING; from a closed state nothing.
func Legal(from, to string) bool {
	switch from {
	case "":
		return to == Connecting
	case Connecting:
		return to == Active || IsClosed(to)
	case Active:
		return to == Recovering || to == Connecting || IsClosed(to)
	case Recovering:
		return to == Active || to == Connecting || IsClosed(to)
	}
	return false
}
