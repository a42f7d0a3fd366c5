package health

import (
	"encoding/json"
	"net/netip"
)

// Key identifies one probe: the effective target plus every Spec field that changes
// what is sent, how the result is judged or how state evolves. Real servers whose
// Keys are equal share one probe and its state. Initial is not part of the Key.
type Key string

// Key returns the probe identity of s (which must have its defaults) for a real
// server at server.
func (s Spec) Key(server netip.AddrPort) Key {
	k := s
	t := s.Target(server)
	k.Address, k.Port = t.Addr(), int(t.Port())
	k.Initial = ""
	b, err := json.Marshal(k)
	if err != nil {
		// Spec holds only strings, numbers, bools and netip.Addr: Marshal cannot fail.
		panic("health: marshal key: " + err.Error())
	}
	return Key(b)
}
