package main

import "github.com/faultline/faultline/internal/cmdline"

// splitCommand splits --sdk into argv without a shell (cmdline.Split: the
// same reading as the Go API's faultline.Driver).
var splitCommand = cmdline.Split
