package scenario

import _ "embed"

// schema is the JSON Schema (draft 2020-12) of the scenario format, for
// editors (yaml-language-server) and other tools. The loader stays the
// authority; schema_test.go keeps the two in step.
//
//go:embed schema.json
var schema []byte

// Schema returns the scenario format's JSON Schema. The caller gets a copy,
// so the embedded bytes cannot be changed through it.
func Schema() []byte { return append([]byte(nil), schema...) }
