package regdoc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/faultline/faultline/fakeserver"
	"github.com/faultline/faultline/harness/check"
	"github.com/faultline/faultline/harness/requirement"
)

// Schema rewrites the registry-derived parts of the scenario JSON Schema
// (current: schema.json as it stands) and leaves the rest as written:
//
//   - $defs requirement, kind, verb, check: enum and enumDescriptions;
//   - $defs expect and linkStep: allOf, one if/then branch per check or verb;
//   - every $defs check_<name> and fault_<verb>: the keys, their types and
//     descriptions (from the Go source), bounds from the extra table.
//
// The hand-written parts it reads from: expect's check and requirement
// properties (each check_<name> repeats them), linkStep's properties (each
// fault_<verb> repeats them; heal takes the ones linkStep requires).
func Schema(current []byte) ([]byte, error) {
	v, err := Decode(current)
	if err != nil {
		return nil, fmt.Errorf("regdoc: schema.json: %w", err)
	}
	doc, ok := v.(Obj)
	if !ok {
		return nil, fmt.Errorf("regdoc: schema.json is no object")
	}
	checks, err := Checks()
	if err != nil {
		return nil, err
	}
	verbs, err := Verbs()
	if err != nil {
		return nil, err
	}
	if err := checkExtra(checks, verbs); err != nil {
		return nil, err
	}
	dv, _ := doc.Get("$defs")
	defs, _ := dv.(Obj)
	get := func(name string) (Obj, error) {
		d, _ := defs.Get(name)
		o, ok := d.(Obj)
		if !ok {
			return nil, fmt.Errorf("regdoc: schema.json has no $defs/%s", name)
		}
		return o, nil
	}
	setDef := func(name string, f func(Obj) (Obj, error)) error {
		o, err := get(name)
		if err != nil {
			return err
		}
		o, err = f(o)
		if err != nil {
			return err
		}
		defs = defs.Set(name, o)
		return nil
	}
	enum := func(names, descs []string) func(Obj) (Obj, error) {
		return func(o Obj) (Obj, error) {
			return o.Set("enum", names).Set("enumDescriptions", descs), nil
		}
	}

	// The enums.
	var ids, titles []string
	for _, r := range requirement.All {
		ids, titles = append(ids, r.ID), append(titles, r.Title)
	}
	if err := setDef("requirement", enum(ids, titles)); err != nil {
		return nil, err
	}
	kinds := fakeserver.Kinds()
	var kindText []string
	for _, k := range kinds {
		kd, _ := fakeserver.LookupKind(k)
		if kd.Doc == "" {
			return nil, fmt.Errorf("regdoc: server kind %s has no Doc (its pack's fakeserver.RegisterKind)", k)
		}
		kindText = append(kindText, kd.Doc)
	}
	if err := setDef("kind", enum(kinds, kindText)); err != nil {
		return nil, err
	}
	actions, err := Actions() // actions.go
	if err != nil {
		return nil, err
	}
	if err := setDef("serverStep", func(o Obj) (Obj, error) { return serverStep(o, actions) }); err != nil {
		return nil, err
	}
	var verbNames, verbText []string
	for _, vb := range verbs {
		verbNames, verbText = append(verbNames, vb.Name), append(verbText, vb.Doc)
	}
	verbNames, verbText = append(verbNames, "heal"), append(verbText, verbDocs["heal"])
	if err := setDef("verb", enum(verbNames, verbText)); err != nil {
		return nil, err
	}
	var checkNames, checkText []string
	for _, c := range checks {
		checkNames, checkText = append(checkNames, c.Spec.Name), append(checkText, capitalize(c.Judges))
	}
	if err := setDef("check", enum(checkNames, checkText)); err != nil {
		return nil, err
	}

	// The branches.
	if err := setDef("expect", func(o Obj) (Obj, error) { return o.Set("allOf", branches("check", checkNames)), nil }); err != nil {
		return nil, err
	}
	if err := setDef("linkStep", func(o Obj) (Obj, error) { return o.Set("allOf", branches("fault", verbNames)), nil }); err != nil {
		return nil, err
	}

	// The definitions.
	expect, _ := get("expect")
	ep, _ := expect.Get("properties")
	checkProp, _ := ep.(Obj).Get("check")
	reqProp, _ := ep.(Obj).Get("requirement")
	if checkProp == nil || reqProp == nil {
		return nil, fmt.Errorf("regdoc: $defs/expect must have the properties check and requirement")
	}
	checkDesc, _ := checkProp.(Obj).Get("description")
	var checkDefs []Member
	for _, c := range checks {
		req := slices.Clone(reqProp.(Obj))
		var js []string
		for _, id := range judges(c.Spec) {
			js = append(js, id+": "+requirement.Title(id))
		}
		req = req.Set("enum", judges(c.Spec)).Set("enumDescriptions", js)
		props := Obj{{"check", Obj{{"description", checkDesc}, {"const", c.Spec.Name}}}, {"requirement", req}}
		d, err := paramsDef(c.Spec.Name+" "+c.Judges, props, c.Params)
		if err != nil {
			return nil, err
		}
		checkDefs = append(checkDefs, Member{"check_" + c.Spec.Name, d})
	}
	link, _ := get("linkStep")
	lp, _ := link.Get("properties")
	lr, _ := link.Get("required")
	linkProps, _ := lp.(Obj)
	var faultDefs []Member
	for _, vb := range verbs {
		d, err := paramsDef(vb.Name+": "+vb.Doc, slices.Clone(linkProps), vb.Params)
		if err != nil {
			return nil, err
		}
		faultDefs = append(faultDefs, Member{"fault_" + vb.Name, d})
	}
	var heal Obj
	for _, m := range linkProps {
		if slices.Contains(lr.([]any), any(m.K)) {
			heal = append(heal, m)
		}
	}
	faultDefs = append(faultDefs, Member{"fault_heal", Obj{{"description", healDoc}, {"properties", heal}, {"additionalProperties", false}}})
	defs = replaceGroup(defs, "fault_", "linkStep", faultDefs)
	defs = replaceGroup(defs, "check_", "expect", checkDefs)
	return Encode(doc.Set("$defs", defs))
}

// paramsDef is a check_<name> or fault_<verb> definition: the shared keys,
// then one property per parameter, closed.
func paramsDef(desc string, props Obj, ps []Param) (Obj, error) {
	var req []string
	for _, p := range ps {
		s := Obj{{"description", p.Doc}}
		switch k := p.Kind(); k {
		case "duration", "bytes":
			s = append(s, Member{"$ref", "#/$defs/" + k})
		case "array":
			s = append(s, Member{"type", k}, Member{"items", Obj{{"type", Param{Type: p.Type.Elem()}.Kind()}}})
		case "":
			return nil, fmt.Errorf("regdoc: parameter %s: no schema type for Go type %s", p.Key, p.Type)
		default:
			s = append(s, Member{"type", k})
		}
		for _, m := range p.Extra {
			s = s.Set(m.K, m.V)
		}
		props = append(props, Member{p.Key, s})
		if p.Required {
			req = append(req, p.Key)
		}
	}
	d := Obj{{"description", desc}, {"properties", props}, {"additionalProperties", false}}
	if len(req) > 0 {
		d = append(d, Member{"required", req})
	}
	return d, nil
}

// branches are the if/then branches that close an object by the value of
// its discriminating key: one $defs/<prefix>_<value> each.
func branches(key string, values []string) []any {
	prefix := map[string]string{"check": "check_", "fault": "fault_"}[key]
	var out []any
	for _, v := range values {
		out = append(out, Obj{
			{"if", Obj{{"properties", Obj{{key, Obj{{"const", v}}}}}, {"required", []any{key}}}},
			{"then", Obj{{"$ref", "#/$defs/" + prefix + v}}},
		})
	}
	return out
}

// replaceGroup drops every definition named prefix… and puts group where
// the first of them stood (or after the definition named after, if none).
func replaceGroup(defs Obj, prefix, after string, group []Member) Obj {
	at := -1
	var out Obj
	for _, m := range defs {
		if strings.HasPrefix(m.K, prefix) {
			if at < 0 {
				at = len(out)
			}
			continue
		}
		out = append(out, m)
	}
	if at < 0 {
		at = len(out)
		for i, m := range out {
			if m.K == after {
				at = i + 1
			}
		}
	}
	return slices.Concat(out[:at:at], Obj(group), out[at:])
}

// judges lists the requirements a check judges, in the requirement list's
// order.
func judges(s check.Spec) []string {
	var out []string
	for _, id := range requirement.IDs() {
		if slices.Contains(s.Judges, id) {
			out = append(out, id)
		}
	}
	return out
}
