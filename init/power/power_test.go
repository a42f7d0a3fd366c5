package power

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// record builds one input_event of the given size (timestamp zeroed).
func record(size int, typ, code uint16, value int32) []byte {
	b := make([]byte, size)
	binary.LittleEndian.PutUint16(b[size-8:], typ)
	binary.LittleEndian.PutUint16(b[size-6:], code)
	binary.LittleEndian.PutUint32(b[size-4:], uint32(value))
	return b
}

func TestParseEvents(t *testing.T) {
	for _, size := range []int{24, 16} {
		var b []byte
		b = append(b, record(size, EvKey, KeyPower, 1)...)
		b = append(b, record(size, 0, 0, 0)...) // EV_SYN
		b = append(b, record(size, EvKey, KeyPower, 0)...)
		b = append(b, record(size, EvKey, KeyPower, -1)...)
		b = append(b, 1, 2, 3) // partial
		got := ParseEvents(b, size)
		want := []Event{{EvKey, KeyPower, 1}, {0, 0, 0}, {EvKey, KeyPower, 0}, {EvKey, KeyPower, -1}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("size %d: got %+v", size, got)
		}
		if !IsPowerPress(got[0]) || IsPowerPress(got[1]) || IsPowerPress(got[2]) || IsPowerPress(got[3]) {
			t.Errorf("size %d: IsPowerPress wrong", size)
		}
	}
	if EventSize != 24 && EventSize != 16 {
		t.Errorf("EventSize = %d", EventSize)
	}
}

// chunkReader returns data in small pieces, splitting records.
type chunkReader struct {
	data  []byte
	chunk int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, os.ErrClosed
	}
	n := min(c.chunk, len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

func TestWatchSplitReads(t *testing.T) {
	var b bytes.Buffer
	for range 3 {
		b.Write(record(24, EvKey, KeyPower, 1))
		b.Write(record(24, EvKey, KeyPower, 0))
		b.Write(record(24, EvKey, 30, 1)) // 'a'
	}
	presses := 0
	err := Watch(context.Background(), &chunkReader{data: b.Bytes(), chunk: 7}, 24, func() { presses++ })
	if err != os.ErrClosed {
		t.Errorf("err = %v", err)
	}
	if presses != 3 {
		t.Errorf("presses = %d", presses)
	}
}

func TestFindButtons(t *testing.T) {
	sys := t.TempDir()
	mk := func(ev, name string) {
		d := filepath.Join(sys, ev, "device")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "name"), []byte(name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("event0", "Power Button")
	mk("event1", "AT Translated Set 2 keyboard")
	mk("event2", "Power Button")
	mk("mouse0", "Power Button")
	got := FindButtons(sys, "/dev/input")
	if !reflect.DeepEqual(got, []string{"/dev/input/event0", "/dev/input/event2"}) {
		t.Errorf("got %v", got)
	}
	if FindButtons(filepath.Join(sys, "nope"), "/dev/input") != nil {
		t.Error("missing dir")
	}
}

func TestWatchDevicePipe(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "event0")
	if err := os.WriteFile(p, append(record(EventSize, EvKey, KeyPower, 1), record(EventSize, 0, 0, 0)...), 0o644); err != nil {
		t.Fatal(err)
	}
	presses := 0
	if err := WatchDevice(context.Background(), p, func() { presses++ }); err != nil {
		t.Fatal(err)
	}
	if presses != 1 {
		t.Errorf("presses = %d", presses)
	}
	if err := WatchDevice(context.Background(), filepath.Join(dir, "missing"), func() {}); err == nil {
		t.Error("missing device accepted")
	}
}
