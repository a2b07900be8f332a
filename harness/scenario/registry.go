package scenario

import "github.com/faultline/faultline/harness/requirement"

// Registry tells the loader which names exist and gives fresh config structs
// to decode into. It is injected (not looked up) because the checkers and the
// fault verbs live in packages that import this one.
type Registry struct {
	Check  func(name string) (any, bool) // pointer to the checker's struct (its yaml tags are its parameters)
	Judges func(check string) []string   // the requirements a check judges; nil: any
	Fault  func(verb string) (any, bool) // pointer to the fault verb's attribute struct (yaml tags)
	// Checks and Verbs list the registered checks and fault verbs, for the
	// did-you-mean (or the list of valid names) of an unknown one; nil: an
	// unknown name is reported alone.
	Checks []string
	Verbs  []string
	Kinds  []string // server kinds; empty means ["session"]
	// Action gives a fresh attributes struct for a server kind's own action
	// (a server step key beyond publish, close, kill, restart, migrate): ok
	// false when the kind has none of that name; a nil struct is a flag
	// action, written `name: true`. Nil: no kind has actions of its own.
	Action func(kind, action string) (args any, ok bool)
	// Actions lists a kind's own actions, for did-you-mean and the schema.
	Actions      func(kind string) []string
	Requirements []string // valid requirement IDs; empty means requirement.IDs()
	// Protocol names the protocol a server kind speaks (client.library's
	// keys must be one the scenario's servers speak); nil: not checked.
	Protocol func(kind string) string
}

// withDefaults fills what a caller left out, so a zero Registry still
// validates everything but checks and verbs (which it then calls unknown).
func (r Registry) withDefaults() Registry {
	if r.Check == nil {
		r.Check = func(string) (any, bool) { return nil, false }
	}
	if r.Fault == nil {
		r.Fault = func(string) (any, bool) { return nil, false }
	}
	if r.Action == nil {
		r.Action = func(string, string) (any, bool) { return nil, false }
	}
	if r.Actions == nil {
		r.Actions = func(string) []string { return nil }
	}
	if len(r.Kinds) == 0 {
		r.Kinds = []string{"session"}
	}
	if len(r.Requirements) == 0 {
		r.Requirements = requirement.IDs()
	}
	return r
}

// validator is what a decoded params or attrs struct may implement to check
// itself beyond types (ranges, combinations).
type validator interface{ Validate() error }

// ScenarioValidator is what a check's parameters struct implements when it
// can judge only scenarios of some shape (a failover check and a client
// without failover, a loss check and a timeline without a loss fault): its
// static precondition. The loader calls it once the whole file is decoded
// without a problem, and reports its error at the check as "check NAME
// cannot judge REQ here: ERR"; the error says what the check needs and what
// the scenario lacks. A check implements it only for what its own code
// would otherwise answer with nothing to judge (UNKNOWN) or a FAILED that
// blames the scenario, whatever the run does.
type ScenarioValidator interface{ ValidateFor(sc *Scenario) error }
