package scenario

import "gopkg.in/yaml.v3"

// precondition is an expect entry whose check states what a scenario must
// hold for it to judge anything (ScenarioValidator), kept until the whole
// file is read.
type precondition struct {
	sv          ScenarioValidator
	check       string
	requirement string
	at          *yaml.Node // the check's name
}

// preconditions reports each check that can judge nothing in sc: bad input
// at load time, not a run that ends UNKNOWN (or FAILED for the scenario's
// sake) after minutes. They run only on a file with no other problem: read
// off a half-decoded scenario (a fault step whose verb is misspelt), a
// precondition would add a false second error to the true first one.
func (p *parser) preconditions(sc *Scenario) {
	if len(p.errs) > 0 {
		return
	}
	for _, pc := range p.pending {
		if err := pc.sv.ValidateFor(sc); err != nil {
			p.errorf(pc.at, "check %s cannot judge %s here: %v", pc.check, pc.requirement, err)
		}
	}
}
