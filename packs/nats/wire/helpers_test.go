package wire

import "testing"

// parseAll feeds the chunks in order, draining after each, and returns the
// ops and the first error.
func parseAll(lim Limits, chunks ...[]byte) ([]Op, error) {
	p := NewParser(lim)
	var ops []Op
	for _, c := range chunks {
		p.Feed(c)
		for {
			op, err := p.Next()
			if err != nil {
				return ops, err
			}
			if op == nil {
				break
			}
			ops = append(ops, op)
		}
	}
	return ops, nil
}

func encodeAll(ops []Op) []byte {
	var b []byte
	for _, op := range ops {
		b = op.Append(b)
	}
	return b
}

func mustJSON(t *testing.T, s string) *Connect {
	t.Helper()
	ops, err := parseAll(Limits{}, []byte("CONNECT "+s+"\r\n"))
	if err != nil || len(ops) != 1 {
		t.Fatalf("CONNECT %s: %v %v", s, ops, err)
	}
	return ops[0].(*Connect)
}
