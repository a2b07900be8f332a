// Command grpc-go is faultline's driver for the real grpc-go client
// (google.golang.org/grpc v1.85.0): it speaks the driver protocol
// (docs/driver-protocol.md, newline-delimited JSON on stdin/stdout) and
// hosts many clients' sessions in one process ("sessions" in the hello),
// each a grpc.ClientConn to the gRPC pack's servers (the Feed service).
//
// Everything a session does is the library's own connection management,
// configured through grpc-go's public options (options.go); what the
// driver adds on top is listed in the connect reply's contract
// ("driver_adds").
package main

import "os"

func main() {
	d := New(os.Stdout, os.Getenv)
	d.Serve(os.Stdin)
	os.Exit(0)
}
