// Package power watches the ACPI power button: it finds the input devices
// named "Power Button" (drivers `button` + `evdev`) and reads their
// input_event records, calling back on a KEY_POWER press.
//
// Parsing input_event bytes is pure and tested; finding and reading devices
// touches /sys/class/input and /dev/input only. The package must not power
// anything off itself: the caller decides what a press means.
package power
