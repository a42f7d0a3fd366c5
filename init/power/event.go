package power

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Input event constants from linux/input-event-codes.h.
const (
	EvKey    = 0x01
	KeyPower = 116
)

// Event is the part of struct input_event after the timestamp.
type Event struct {
	Type  uint16
	Code  uint16
	Value int32
}

// EventSize is sizeof(struct input_event) on this platform: a struct
// timeval (16 bytes on 64-bit, 8 on 32-bit) plus type, code and value.
var EventSize = int(unsafe.Sizeof(unix.Timeval{})) + 8

// ParseEvents decodes whole input_event records of the given size from b
// (native little-endian layout); a trailing partial record is ignored.
func ParseEvents(b []byte, size int) []Event {
	var out []Event
	for len(b) >= size && size >= 8 {
		rec := b[size-8 : size]
		out = append(out, Event{
			Type:  binary.LittleEndian.Uint16(rec[0:2]),
			Code:  binary.LittleEndian.Uint16(rec[2:4]),
			Value: int32(binary.LittleEndian.Uint32(rec[4:8])),
		})
		b = b[size:]
	}
	return out
}

// IsPowerPress reports a press (not release or autorepeat) of KEY_POWER.
func IsPowerPress(e Event) bool {
	return e.Type == EvKey && e.Code == KeyPower && e.Value == 1
}
