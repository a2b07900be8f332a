// Package kit is the plumbing every Go driver of a real client library
// shares (docs/driver-protocol.md): the line types and the serialized
// output, the stdin loop (hello, probe, exit, every other op on its own
// goroutine, the bounded shutdown), the lifecycle rule U1's states and
// transitions, the contract and its terms, the connect op's options, the
// sessions by client index, and the send numbering. What a library does
// stays in its driver.
//
// Each driver is its own Go module, so that the core module never depends
// on a library it certifies; kit is one too, with no dependency beyond the
// standard library, and a driver requires it through a replace directive:
//
//	require github.com/faultline/faultline/drivers/kit v0.0.0
//	replace github.com/faultline/faultline/drivers/kit => ../kit
package kit
