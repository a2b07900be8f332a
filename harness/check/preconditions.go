package check

import (
	"errors"
	"fmt"

	"github.com/faultline/faultline/harness/scenario"
)

// Static preconditions: what a scenario must hold for a check to judge
// anything at all. A check that has one implements
// scenario.ScenarioValidator (ValidateFor) next to its Check, citing the
// code that would otherwise answer "nothing to judge" (UNKNOWN) or FAILED
// for the scenario's sake in every run; the loader then refuses the file,
// naming the check, its requirement and what the scenario lacks. These are
// the questions those methods ask of a scenario.
//
// They rest on where the history's records come from: a link's fault.on
// only from a link step (runner: proxy.Link.Apply), a harness op (connect,
// send, subscribe, close, request, cancel, discovery.*) only from a client
// or discovery step (runner: clientRunner.loop, routerLoop), and a server's
// migration records only from a migrate step naming a target
// (runner: migration.go).

// lossVerbs lists the loss fault verbs (isLossVerb) for messages.
var lossVerbs = VerbCut + ", " + VerbReset + ", " + VerbBlackhole + " or " + VerbDown

// hasLossFault reports whether a link step puts a loss fault (isLossVerb)
// on a link: without one, no fault span is a loss.
func hasLossFault(sc *scenario.Scenario) bool {
	for _, st := range sc.Steps {
		if st.Link != "" && isLossVerb(st.Fault) {
			return true
		}
	}
	return false
}

// errNoLossFault is what a check judging losses says of a timeline without one.
var errNoLossFault = fmt.Errorf("it needs a loss fault (%s) on a link, and the timeline has none", lossVerbs)

// clientSteps lists the client steps of op.
func clientSteps(sc *scenario.Scenario, op string) []*scenario.ClientStep {
	var out []*scenario.ClientStep
	for _, st := range sc.Steps {
		if st.Client != nil && st.Client.Op == op {
			out = append(out, st.Client)
		}
	}
	return out
}

// needClientOp is an error when no client step does op (what: how to write one).
func needClientOp(sc *scenario.Scenario, op, what string) error {
	if len(clientSteps(sc, op)) == 0 {
		return fmt.Errorf("it needs a client %s step (%s), and the timeline has none", op, what)
	}
	return nil
}

// hasMigration reports whether a server step asks its sessions to move (a
// migrate step with a target; a cancel alone starts nothing).
func hasMigration(sc *scenario.Scenario) bool {
	for _, st := range sc.Steps {
		if st.Migrate != nil && st.Migrate.To != "" {
			return true
		}
	}
	return false
}

// errNoMigration is what a migration check says of a timeline without one.
var errNoMigration = errors.New("it needs a migration (a server step migrate: {to: ...}), and the timeline has none")

// needDiscovery is an error when no discovery step adds or removes a server.
func needDiscovery(sc *scenario.Scenario) error {
	for _, st := range sc.Steps {
		if st.Discovery != nil {
			return nil
		}
	}
	return errors.New("it needs a discovery step ({discovery: {add: ...}} or {discovery: {remove: ...}}), and the timeline has none")
}

// needRouter is an error when the client is no router: every T check's view
// refuses such a scenario (beginRoute, route_view.go).
func needRouter(sc *scenario.Scenario) error {
	if !sc.Client.IsRouter() {
		return errors.New("it judges a router, and the client has no router block (client.router)")
	}
	return nil
}

// needSubscribe is an error when no client step subscribes to topic: no
// server then records a subscribe to it (subscribedStreams, seqs.go).
func needSubscribe(sc *scenario.Scenario, topic string) error {
	for _, cs := range clientSteps(sc, "subscribe") {
		if cs.Topic == topic {
			return nil
		}
	}
	return fmt.Errorf("it needs a client step {subscribe: %s}, and no step subscribes to %q", topic, topic)
}

// sent is how many messages the client steps send in all.
func sent(sc *scenario.Scenario) int {
	n := 0
	for _, cs := range clientSteps(sc, "send") {
		n += max(cs.Count, 1)
	}
	return n
}
