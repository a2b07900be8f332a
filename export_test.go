package faultline

// For the suite's FAULTLINE_SDK (sdk_test.go): a driver command means there
// what it means to Driver.
var SplitCommand = splitCommand
