package reports

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/faultline/faultline/harness/check"
)

// JUnit XML, in the shape CI systems read (Jenkins, GitLab, GitHub actions).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	File       string          `xml:"file,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// JUnit renders the report as JUnit XML.
func (r *Report) JUnit() ([]byte, error) {
	all := junitSuites{Name: "faultline " + r.sdkLabel(), Time: secs(r.WallMS)}
	byScenario := map[string][]Result{}
	for _, res := range r.Results {
		byScenario[res.Scenario] = append(byScenario[res.Scenario], res)
	}
	for _, sc := range r.Scenarios {
		s := junitSuite{Name: sc.Name, File: sc.File, Time: secs(sc.WallMS), Properties: []junitProperty{
			{"sdk", r.SDK.SDK}, {"version", r.SDK.Version}, {"covers", strings.Join(sc.Covers, " ")}}}
		if len(sc.Problems) > 0 {
			s.SystemOut = "the run did not go as scheduled:\n" + strings.Join(sc.Problems, "\n")
		}
		for _, res := range byScenario[sc.Name] {
			c := junitCase{Name: res.Requirement + " " + res.Check, Classname: "faultline." + sc.Name, Time: "0"}
			text := res.Detail + measurementsText(res.Measurements)
			switch res.Verdict {
			case check.Failed, check.Unknown:
				c.Failure = &junitMessage{Message: res.Detail, Type: res.Verdict, Text: text}
				s.Failures++
			case check.Unimplemented, check.Unsupported:
				c.Skipped = &junitMessage{Message: res.Detail}
				s.Skipped++
			default:
				c.SystemOut = res.Verdict + ": " + text
			}
			s.Cases = append(s.Cases, c)
			s.Tests++
		}
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Skipped += s.Skipped
		all.Suites = append(all.Suites, s)
	}
	b, err := xml.MarshalIndent(all, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("junit: %w", err)
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

func measurementsText(ms []check.Measurement) string {
	if len(ms) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n\nmeasurements:")
	for _, m := range ms {
		fmt.Fprintf(&b, "\n  %s = %s", m.Name, value(m))
		if m.Expected != "" {
			fmt.Fprintf(&b, " (expected %s)", m.Expected)
		}
		if m.Evidence != "" {
			fmt.Fprintf(&b, " [%s]", m.Evidence)
		}
	}
	return b.String()
}

// value renders a measurement's value with its unit.
func value(m check.Measurement) string {
	v := strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", m.Value), "0"), ".")
	if m.Value != 0 && (m.Value < 0.001 && m.Value > -0.001) {
		v = fmt.Sprintf("%.3g", m.Value)
	}
	if m.Unit == "" || m.Unit == "count" {
		return v
	}
	return v + " " + m.Unit
}

func secs(ms float64) string { return fmt.Sprintf("%.3f", ms/1000) }

// WriteJUnit writes dir/junit.xml.
func (r *Report) WriteJUnit(dir string) (string, error) {
	b, err := r.JUnit()
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "junit.xml")
	return p, os.WriteFile(p, b, 0o644)
}
