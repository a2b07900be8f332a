// Command paho.mqtt.golang is faultline's driver for the real Eclipse Paho
// MQTT client (github.com/eclipse/paho.mqtt.golang v1.5.1): it speaks the
// driver protocol (docs/driver-protocol.md, newline-delimited JSON on
// stdin/stdout) and hosts many clients' sessions in one process
// ("sessions" in the hello).
//
// Everything a session does is paho's own connection management,
// configured through its public options (options.go); what the driver adds
// on top is listed in the connect reply's contract ("driver_adds").
package main

import "os"

func main() {
	d := New(os.Stdout, os.Getenv)
	d.Serve(os.Stdin)
	os.Exit(0)
}
