// Package faultline certifies a client library's connection management from
// the library's own `go test`: Run runs faultline's scenarios (fake servers
// behind in-process Toxiproxy links, faults on a timeline) against the
// library, through an in-process adapter (Engine) or a stdio driver program
// (Driver), and turns every check's verdict into a subtest that fails with
// what was expected and what was measured. It writes the same reports as
// `faultline run` (report.json, junit.xml, summary.md, index.html).
//
// The scenarios are built into the package (ScenarioFS), so a module that
// requires faultline needs no copy of them:
//
//	func TestConformance(t *testing.T) {
//		faultline.Run(t, faultline.Engine(mysdkFactory), faultline.Scenarios("scenarios/reconnect"))
//	}
//
// docs/api.md is the guide, with a complete example module.
package faultline
