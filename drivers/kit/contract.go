package kit

// The connection-management contract (docs/driver-protocol.md, "The SDK
// contract"). A driver's contract is Contract[its Params]; the values and
// citations of its terms are the driver's.

// Term is one term of a contract: its value, and a citation to the
// library's own source (or "driver: …" for what the driver does).
type Term struct {
	Value string `json:"value"`
	Cite  string `json:"cite"`
}

// Unsupported is an asked option the library cannot express.
type Unsupported struct {
	Option string `json:"option"`
	Reason string `json:"reason"`
}

// DriverAdd is behaviour the driver adds through the library's public API.
type DriverAdd struct {
	What string `json:"what"`
	Why  string `json:"why"`
}

// Contract is a driver's built-in contract (hello) or its effective one
// (connect reply, with Params, Unsupported and DriverAdds): a value for
// each term, cited. P is the driver's Params: the numbers the library runs
// with, read back from the options the connect built.
type Contract[P any] struct {
	FirstAttempt   Term `json:"first_attempt"`
	DelayApplies   Term `json:"delay_applies"`
	Delay          Term `json:"delay"`
	Jitter         Term `json:"jitter"`
	Reset          Term `json:"reset"`
	AttemptLimit   Term `json:"attempt_limit"`
	Failover       Term `json:"failover"`
	Shuffle        Term `json:"shuffle"`
	FirstConnect   Term `json:"first_connect"`
	Liveness       Term `json:"liveness"`
	OverallTimeout Term `json:"overall_timeout"`
	LameDuck       Term `json:"lame_duck"`
	Delivery       Term `json:"delivery"`
	Buffer         Term `json:"buffer"`
	Discovery      Term `json:"discovery"`
	CloseError     Term `json:"close_error"`

	Params      *P            `json:"params,omitempty"`
	Unsupported []Unsupported `json:"unsupported,omitempty"`
	DriverAdds  []DriverAdd   `json:"driver_adds,omitempty"`
}
