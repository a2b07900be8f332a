package wire

import (
	"encoding/json"
	"errors"
	"fmt"
)

// maxSizeDigits is nats-server's bound on a size argument (999,999,999):
// longer numbers are malformed, not oversize.
const maxSizeDigits = 9

// token is one argument and its index in the control line.
type token struct {
	at int
	b  []byte
}

// splitArgs splits args (which start at index base of the line) on runs of
// spaces and tabs. It stops after max+1 tokens: one more than any op takes
// is enough to say there are too many, and a line of thousands of tokens
// must not cost thousands of allocations.
func splitArgs(args []byte, base, max int, into []token) []token {
	start := -1
	for i, c := range args {
		if c == ' ' || c == '\t' {
			if start >= 0 {
				into = append(into, token{base + start, args[start:i]})
				start = -1
				if len(into) > max {
					return into
				}
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		into = append(into, token{base + start, args[start:]})
	}
	return into
}

func firstNonSpace(b []byte) int {
	for i, c := range b {
		if c != ' ' && c != '\t' {
			return i
		}
	}
	return -1
}

// parseSize parses 1 to 9 decimal digits, or returns -1.
func parseSize(b []byte) int {
	if len(b) == 0 || len(b) > maxSizeDigits {
		return -1
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// args splits the arguments of op and checks their count is in [lo, hi].
func (p *Parser) args(op string, args []byte, base, lo, hi int) ([]token, error) {
	var arr [5]token
	toks := splitArgs(args, base, hi, arr[:0])
	if len(toks) < lo || len(toks) > hi {
		want := fmt.Sprintf("%d", lo)
		if hi > lo {
			want = fmt.Sprintf("%d or %d", lo, hi)
		}
		got := fmt.Sprintf("%d", len(toks))
		if len(toks) > hi {
			got = "more"
		}
		return nil, p.errAt(op, base, ErrSyntax, fmt.Sprintf("%s takes %s arguments, got %s", op, want, got))
	}
	return toks, nil
}

func (p *Parser) size(op, what string, t token) (int, error) {
	n := parseSize(t.b)
	if n < 0 {
		return 0, p.errAt(op, t.at, ErrSyntax, fmt.Sprintf("%s %s is not 1 to %d decimal digits", what, quote(t.b), maxSizeDigits))
	}
	return n, nil
}

func (p *Parser) connect(args []byte, base int) (Op, error) {
	j := firstNonSpace(args)
	if j < 0 {
		return nil, p.errAt("CONNECT", base, ErrSyntax, "CONNECT needs a JSON object")
	}
	raw := args[j:]
	if raw[0] != '{' {
		return nil, p.errAt("CONNECT", base+j, ErrSyntax, fmt.Sprintf("CONNECT argument %s is not a JSON object", quote(raw)))
	}
	c := &Connect{Verbose: true, Pedantic: true, Echo: true} // nats-server's defaults for what the client leaves out
	if err := json.Unmarshal(raw, c); err != nil {
		at := base + j
		var se *json.SyntaxError
		if errors.As(err, &se) && se.Offset > 0 && int(se.Offset) <= len(raw) {
			at += int(se.Offset) - 1
		}
		return nil, p.errAt("CONNECT", at, ErrSyntax, "CONNECT JSON: "+err.Error())
	}
	c.JSON = clone(raw)
	return c, nil
}

func (p *Parser) sub(args []byte, base int) (Op, error) {
	t, err := p.args("SUB", args, base, 2, 3)
	if err != nil {
		return nil, err
	}
	if len(t) == 2 {
		return &Sub{Subject: string(t[0].b), SID: string(t[1].b)}, nil
	}
	return &Sub{Subject: string(t[0].b), Queue: string(t[1].b), SID: string(t[2].b)}, nil
}

func (p *Parser) unsub(args []byte, base int) (Op, error) {
	t, err := p.args("UNSUB", args, base, 1, 2)
	if err != nil {
		return nil, err
	}
	u := &Unsub{SID: string(t[0].b)}
	if len(t) == 2 {
		n, err := p.size("UNSUB", "max", t[1])
		if err != nil {
			return nil, err
		}
		u.Max = int64(n)
	}
	return u, nil
}

func (p *Parser) pub(args []byte, base int) (Op, int, error) {
	t, err := p.args("PUB", args, base, 2, 3)
	if err != nil {
		return nil, 0, err
	}
	last := t[len(t)-1]
	n, err := p.size("PUB", "size", last)
	if err != nil {
		return nil, 0, err
	}
	if n > p.lim.MaxPayload {
		return nil, 0, p.errAt("PUB", last.at, ErrMaxPayload, fmt.Sprintf("payload of %d bytes, limit %d", n, p.lim.MaxPayload))
	}
	op := &Pub{Subject: string(t[0].b)}
	if len(t) == 3 {
		op.Reply = string(t[1].b)
	}
	return op, n, nil
}

func (p *Parser) hpub(args []byte, base int) (Op, int, int, error) {
	t, err := p.args("HPUB", args, base, 3, 4)
	if err != nil {
		return nil, 0, 0, err
	}
	ht, tt := t[len(t)-2], t[len(t)-1]
	hdr, err := p.size("HPUB", "header size", ht)
	if err != nil {
		return nil, 0, 0, err
	}
	total, err := p.size("HPUB", "total size", tt)
	if err != nil {
		return nil, 0, 0, err
	}
	if hdr > total {
		return nil, 0, 0, p.errAt("HPUB", ht.at, ErrSyntax, fmt.Sprintf("header size %d exceeds total size %d", hdr, total))
	}
	if total > p.lim.MaxPayload {
		return nil, 0, 0, p.errAt("HPUB", tt.at, ErrMaxPayload, fmt.Sprintf("message of %d bytes, limit %d", total, p.lim.MaxPayload))
	}
	op := &HPub{Subject: string(t[0].b)}
	if len(t) == 4 {
		op.Reply = string(t[1].b)
	}
	return op, hdr, total, nil
}
