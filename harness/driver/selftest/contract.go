package selftest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/faultline/faultline/harness/check"
)

// contractTerms are the terms of the SDK contract and the values the checks
// tell apart (docs/driver-protocol.md, "The SDK contract"; a test holds
// this table to the document's). A term outside it is ignored by every
// check; a value outside a term's set is one no check can judge by.
var contractTerms = map[string][]string{
	"first_attempt":    {"immediate", "after_delay"},
	"delay_applies":    {"per_attempt", "per_pass"},
	"delay":            {"constant", "exponential", "custom"},
	"jitter":           {"none", "added", "symmetric", "below"},
	"reset":            {"on_success", "never"},
	"attempt_limit":    {"none", "per_client", "per_server"},
	"failover":         {"next", "top"},
	"shuffle":          {"none", "at_connect", "per_walk"},
	"first_connect":    {"cascade", "single"},
	"liveness":         {"ping", "none"},
	"overall_timeout":  {"native", "driver", "none"},
	"lame_duck":        {"reconnect", "notify", "none"},
	"delivery":         {"at_most_once", "at_least_once", "exactly_once"},
	"buffer":           {"while_reconnecting", "none"},
	"close_error":      {"names_tried", "last_error", "generic"},
	"discovery":        {"follow", "ignore"},
	"refusal":          {"retry", "next", "ends"},
	"resubscribe":      {"auto", "driver", "none"},
	"connect_deadline": {"max_backoff", "fixed"},
	"idle_reconnect":   {"auto", "on_demand"},
}

// contractParams are the params the checks read, and whether each is a
// number (else a boolean). Other params are the driver's own, shown only.
var contractParams = map[string]bool{
	"reconnect_wait_ms": true, "jitter_ms": true, "initial_ms": true, "multiplier": true, "max_ms": true,
	"jitter": true, "detect_ms": true, "min_connect_timeout_ms": true, "overlap_ms": true,
	"first_wait_exact": false,
}

// Keys of an effective contract (a connect reply's) beside its terms.
const (
	keyParams      = "params"
	keyUnsupported = "unsupported"
	keyDriverAdds  = "driver_adds"
)

// contractFindings is what judging a contract found: problems (a check
// would misread it), notes (it is ignored), and a one-line summary.
type contractFindings struct {
	problems, notes []string
	summary         string
}

// judgeContract reads a contract (the hello's, or with effective set a
// connect reply's) the way the checks do: each term a {"value", "cite"}
// with a value the checks know; an effective contract's params,
// unsupported options and driver additions in their shapes.
func judgeContract(raw json.RawMessage, effective bool) contractFindings {
	var f contractFindings
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		f.problems = append(f.problems, fmt.Sprintf("the contract is not a JSON object (%v); expected {\"term\": {\"value\": …, \"cite\": …}, …}", err))
		return f
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var terms []string
	for _, k := range keys {
		v := all[k]
		switch k {
		case keyParams:
			f.params(v, effective)
		case keyUnsupported:
			var us []check.CantExpress
			if err := json.Unmarshal(v, &us); err != nil {
				f.problems = append(f.problems, fmt.Sprintf("%q: %v; expected a list of {\"option\": …, \"reason\": …}", k, err))
			}
			for _, u := range us {
				if u.Option == "" || u.Reason == "" {
					f.problems = append(f.problems, fmt.Sprintf("%q: %s lacks an option or a reason; expected both: the report shows why the library cannot express it", k, compact(v)))
					break
				}
			}
		case keyDriverAdds:
			var ds []check.DriverAdd
			if err := json.Unmarshal(v, &ds); err != nil {
				f.problems = append(f.problems, fmt.Sprintf("%q: %v; expected a list of {\"what\": …, \"why\": …}", k, err))
			}
			for _, d := range ds {
				if d.What == "" || d.Why == "" {
					f.problems = append(f.problems, fmt.Sprintf("%q: %s lacks a what or a why; expected both", k, compact(v)))
					break
				}
			}
		default:
			if t, ok := f.term(k, v); ok {
				terms = append(terms, k+" "+t)
			}
		}
	}
	f.summary = fmt.Sprintf("%d term(s)", len(terms))
	if len(terms) > 0 {
		f.summary += ": " + strings.Join(terms, ", ")
	}
	return f
}

// term judges one term; it returns its value when the checks can read it.
func (f *contractFindings) term(k string, v json.RawMessage) (string, bool) {
	var t check.Term
	if err := json.Unmarshal(v, &t); err != nil {
		f.problems = append(f.problems, fmt.Sprintf("term %q is %s (%v); expected {\"value\": …, \"cite\": …}", k, compact(v), err))
		return "", false
	}
	switch values, known := contractTerms[k]; {
	case t.Value == "":
		f.problems = append(f.problems, fmt.Sprintf("term %q has no value: %s; expected {\"value\": …, \"cite\": …}", k, compact(v)))
		return "", false
	case !known:
		f.notes = append(f.notes, fmt.Sprintf("term %q is not one the checks read (docs/driver-protocol.md, \"The SDK contract\"): kept in the report, judged by nothing", k))
	case !slices.Contains(values, t.Value):
		f.problems = append(f.problems, fmt.Sprintf("term %q has value %q; expected one of %s", k, t.Value, strings.Join(values, ", ")))
		return "", false
	}
	if t.Cite == "" {
		f.problems = append(f.problems, fmt.Sprintf("term %q has no cite; expected where the library says so (its source file and function at the pinned version, or a documentation page)", k))
	}
	return t.Value, true
}

func (f *contractFindings) params(v json.RawMessage, effective bool) {
	if !effective {
		f.notes = append(f.notes, "\"params\" in the hello: the checks read a connect reply's params, for the options that connect asked")
	}
	var ps map[string]any
	if err := json.Unmarshal(v, &ps); err != nil {
		f.problems = append(f.problems, fmt.Sprintf("\"params\": %v; expected an object of the numbers the library runs with", err))
		return
	}
	for _, k := range sortedKeys(ps) {
		number, read := contractParams[k]
		if !read {
			continue
		}
		switch ps[k].(type) {
		case float64:
			if !number {
				f.problems = append(f.problems, fmt.Sprintf("param %q is %v; expected true or false", k, ps[k]))
			}
		case bool:
			if number {
				f.problems = append(f.problems, fmt.Sprintf("param %q is %v; expected a number", k, ps[k]))
			}
		default:
			want := "a number"
			if !number {
				want = "true or false"
			}
			f.problems = append(f.problems, fmt.Sprintf("param %q is %s; expected %s", k, compactAny(ps[k]), want))
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// compact renders JSON for a problem, truncated.
func compact(v json.RawMessage) string {
	s := string(v)
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

func compactAny(v any) string {
	b, _ := json.Marshal(v)
	return compact(b)
}
