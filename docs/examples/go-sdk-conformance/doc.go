// Package mysdk is where your client library would be. This example
// certifies faultline's reference Go client (github.com/faultline/faultline/client)
// in its place, so that it is complete and passes: adapter_test.go maps the
// library onto faultline's driver interface, conformance_test.go runs the
// built-in reconnect scenarios against it from `go test`.
package mysdk
