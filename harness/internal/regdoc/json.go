package regdoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Obj is a JSON object that keeps its keys' order, so that a merge rewrites
// only what it generates and leaves the rest of schema.json as written.
type Obj []Member

// Member is one key of an Obj.
type Member struct {
	K string
	V any
}

// Get returns the value of key k.
func (o Obj) Get(k string) (any, bool) {
	for _, m := range o {
		if m.K == k {
			return m.V, true
		}
	}
	return nil, false
}

// Set replaces k's value in place, or appends k.
func (o Obj) Set(k string, v any) Obj {
	for i, m := range o {
		if m.K == k {
			o[i].V = v
			return o
		}
	}
	return append(o, Member{k, v})
}

// Decode parses JSON into Obj, []any, string, bool, json.Number and nil.
func Decode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	v, err := decodeValue(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("regdoc: trailing data after the JSON value")
	}
	return v, nil
}

func decodeValue(d *json.Decoder) (any, error) {
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t {
	case json.Delim('{'):
		o := Obj{}
		for d.More() {
			k, err := d.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeValue(d)
			if err != nil {
				return nil, err
			}
			o = append(o, Member{k.(string), v})
		}
		_, err := d.Token()
		return o, err
	case json.Delim('['):
		a := []any{}
		for d.More() {
			v, err := decodeValue(d)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err := d.Token()
		return a, err
	}
	return t, nil
}

// Encode writes v as Python's json.dumps(v, indent=2, ensure_ascii=False)
// does, plus a final newline: the format schema.json has always had, so
// that a regeneration changes only what it means to. encoding/json does the
// work: Obj marshals its members in order, and json.Indent lays it out
// (empty objects and lists stay "{}" and "[]", as Python writes them).
func Encode(v any) ([]byte, error) {
	raw, err := marshal(v)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// MarshalJSON writes the members in their order.
func (o Obj) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := marshal(m.K)
		if err != nil {
			return nil, err
		}
		v, err := marshal(m.V)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// marshal is json.Marshal without HTML escaping (schema.json says "<" and
// "&" as they are).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
