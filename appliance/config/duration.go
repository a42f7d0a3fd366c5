package config

import (
	"errors"
	"strings"
	"time"
)

// Duration is a non-negative time span written as a Go duration string in JSON
// ("1s", "150ms", "2m30s").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d as its shortest duration string ("1m", not "1m0s").
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

var errDuration = errors.New(`not a duration (write a number and a unit: "1s", "150ms", "2m30s")`)

// UnmarshalText implements encoding.TextUnmarshaler. It refuses negative durations
// and bare numbers (which would be ambiguous).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	switch {
	case err != nil:
		return errDuration
	case v < 0:
		return errors.New("a duration cannot be negative")
	}
	*d = Duration(v)
	return nil
}

// wholeSeconds reports whether d is a whole number of seconds.
func (d Duration) wholeSeconds() bool { return time.Duration(d)%time.Second == 0 }
