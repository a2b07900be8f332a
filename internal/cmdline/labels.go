package cmdline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
)

// Filter is a label expression in Ginkgo's own label-filter grammar
// (types.ParseLabelFilter): &&, ||, !, ( ), "," as ||, /regex/, labels
// matched without regard to case. One dialect for `faultline run --label`
// and `go test -ginkgo.label-filter`, whose specs carry the scenarios'
// labels (suite_test.go). The empty filter matches everything.
type Filter func(labels []string) bool

// ParseLabels reads expr (nil for the empty filter); a bad expression is
// Ginkgo's message with a caret under the place it points at.
func ParseLabels(expr string) (Filter, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	f, err := types.ParseLabelFilter(expr)
	if err != nil {
		return nil, labelError(expr, err)
	}
	return Filter(f), nil
}

// Match reports whether labels pass the filter (nil passes all).
func (f Filter) Match(labels []string) bool { return f == nil || f(labels) }

// labelError is Ginkgo's message without its terminal colours, with a caret
// under the place it points at.
func labelError(expr string, err error) error {
	var g types.GinkgoError
	if !errors.As(err, &g) {
		return err
	}
	const mark = "{{red}}{{bold}}{{underline}}" // how Ginkgo marks the offending character
	msg := formatter.New(formatter.ColorModeNone).F(g.Message)
	_, reason, found := strings.Cut(msg, "\n")
	if !found || !strings.HasPrefix(msg, expr) {
		return fmt.Errorf("%s: %s", g.Heading, strings.TrimSpace(msg))
	}
	out := fmt.Sprintf("%s: %s\n    %s", g.Heading, strings.TrimSpace(reason), expr)
	at := strings.Index(g.Message, mark)
	if at < 0 && strings.Contains(reason, "EOF") { // Ginkgo marks no place: the end
		at = len(expr)
	}
	if at >= 0 && at <= len(expr) {
		out += "\n    " + strings.Repeat(" ", len([]rune(expr[:at]))) + "^"
	}
	return errors.New(out)
}
