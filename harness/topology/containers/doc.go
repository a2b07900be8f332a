// Package containers is the containers topology: every fake server of a
// scenario is a `faultline serve` container and the links are hosted by one
// more, `faultline serve --links` (Toxiproxy embedded, behind Toxiproxy's own
// HTTP API), on a private Docker network, started with testcontainers-go
// from images built here (make images; nothing is pulled). The client engine
// stays on the host and dials the links container's ports. The links
// container's event stream carries its links' link.accept and link.dial_fail,
// recorded into the run's history as the servers' events are.
//
// Cleanup is this package's job, not Ryuk's (the reaper's image cannot be
// pulled here): every container and the network carry a per-topology label,
// Close removes what it tracked and then sweeps anything else with that
// label (a container whose creation was cut short by an interrupt), and the
// CLI and the test suites call Close on success, failure and interrupt.
package containers
