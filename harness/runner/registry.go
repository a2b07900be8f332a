package runner

import (
	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/requirement"
	"github.com/faultline/faultline/harness/scenario"
	"github.com/faultline/faultline/proxy"

	// The protocol packs register their server kinds when imported.
	_ "github.com/faultline/faultline/packs/all"
)

// Registry is what the scenario loader may name: the registered checkers,
// fault verbs and server kinds, and the requirement IDs.
func Registry() scenario.Registry {
	return scenario.Registry{
		Check: func(name string) (any, bool) {
			c, ok := check.New(name)
			return c, ok
		},
		Judges:       check.Judges,
		Fault:        proxy.NewAttrs,
		Checks:       check.Names(),
		Verbs:        proxy.Verbs(),
		Kinds:        fakeserver.Kinds(),
		Action:       fakeserver.ActionArgs,
		Actions:      fakeserver.ActionNames,
		Requirements: requirement.IDs(),
		Protocol: func(kind string) string {
			k, _ := fakeserver.LookupKind(kind)
			return k.Protocol
		},
	}
}

// Load loads every scenario under dir (recursively) with the registry.
func Load(dir string) ([]*scenario.Scenario, error) {
	return scenario.LoadDir(dir, Registry())
}
