package faultline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
)

// labelFilter is a Label expression in Ginkgo's label-filter grammar
// (types.ParseLabelFilter: &&, ||, !, ( ), "," as ||, /regex/), the dialect
// of `faultline run --label` and of `go test -ginkgo.label-filter` over the
// conformance suite. nil matches everything.
type labelFilter func(labels []string) bool

func parseLabels(expr string) (labelFilter, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	f, err := types.ParseLabelFilter(expr)
	if err != nil {
		var g types.GinkgoError
		if errors.As(err, &g) { // its message repeats expr, with terminal colour markup
			msg := formatter.New(formatter.ColorModeNone).F(g.Message)
			if first, reason, ok := strings.Cut(msg, "\n"); ok && strings.TrimSpace(first) == strings.TrimSpace(expr) {
				msg = reason
			}
			return nil, fmt.Errorf("%q: %s", expr, strings.TrimSpace(msg))
		}
		return nil, fmt.Errorf("%q: %w", expr, err)
	}
	return labelFilter(f), nil
}

func (f labelFilter) match(labels []string) bool { return f == nil || f(labels) }
