package vrrp

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "TestFuzzCorpus: rewrite testdata/fuzz seed corpora")

// fuzzConfigs are the instances FuzzCheck checks every input against.
var fuzzConfigs = append([]Config{cfgV2, cfgV3, cfgV36}, keepalivedInstances...)

// FuzzUnmarshal: Unmarshal never panics, fails only with a *DecodeError
// carrying a known Reason, and whatever it accepts marshals back to the same
// bytes (apart from the checksum and the v3 reserved bits) and decodes again
// to the same Packet.
func FuzzUnmarshal(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		fam, src, dst := IPv4, src4, GroupIPv4
		if v6 {
			fam, src, dst = IPv6, src6, GroupIPv6
		}
		p, err := Unmarshal(b, fam)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || !slices.Contains(Reasons(), de.Reason) {
				t.Fatalf("error %v is not a DecodeError with a known reason", err)
			}
			return
		}
		out, err := p.Marshal(src, dst)
		if err != nil {
			t.Fatalf("accepted %x but Marshal fails: %v", b, err)
		}
		if !ChecksumOK(p.Version, src, dst, out) {
			t.Fatalf("own checksum does not verify: %x", out)
		}
		want := bytes.Clone(b)
		want[6], want[7] = out[6], out[7]
		if p.Version == Version3 {
			want[4] &= 0x0f
		}
		if !bytes.Equal(out, want) {
			t.Fatalf("round trip\n in %x\nout %x", b, out)
		}
		q, err := Unmarshal(out, fam)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		q.Checksum = p.Checksum
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("re-decode\n got %+v\nwant %+v", q, p)
		}
	})
}

// FuzzCheck: the receive checks never panic, every drop has a known reason,
// and an accepted message really satisfies every check.
func FuzzCheck(f *testing.F) {
	f.Fuzz(func(t *testing.T, ttl uint8, srcB, dstB, payload []byte) {
		src, _ := netip.AddrFromSlice(srcB)
		dst, _ := netip.AddrFromSlice(dstB)
		in := Received{TTL: ttl, Src: src, Dst: dst, Payload: payload}
		for _, c := range fuzzConfigs {
			v := c.Check(in)
			if !v.Accepted() {
				if !slices.Contains(Reasons(), v.Drop) || v.Drop == WarnAddrListOwner {
					t.Fatalf("vrid %d: unknown drop reason %q", c.VRID, v.Drop)
				}
				continue
			}
			p := v.Packet
			switch {
			case ttl != TTL:
				t.Fatalf("vrid %d: accepted TTL %d", c.VRID, ttl)
			case p.Version != c.Version || p.VRID != c.VRID || p.Type != TypeAdvertisement:
				t.Fatalf("vrid %d: accepted %+v", c.VRID, p)
			case FamilyOf(src) != c.Family() || FamilyOf(dst) != c.Family():
				t.Fatalf("vrid %d: accepted %v > %v", c.VRID, src, dst)
			case !ChecksumOK(p.Version, src.Unmap(), dst.Unmap(), payload):
				t.Fatalf("vrid %d: accepted a bad checksum", c.VRID)
			case v.Src == c.PrimaryAddr:
				t.Fatalf("vrid %d: accepted our own advert", c.VRID)
			case p.Interval == 0:
				t.Fatalf("vrid %d: accepted interval 0", c.VRID)
			case p.Version == Version2 && (p.AuthType != c.AuthType || p.AuthData != c.authData() ||
				p.AdvertInterval() != c.AdvertInterval):
				t.Fatalf("vrid %d: accepted v2 auth/interval %+v", c.VRID, p)
			case v.Warn == "" && !sameAddrs(p.Addresses, c.VIPs):
				t.Fatalf("vrid %d: accepted addresses %v, want %v", c.VRID, p.Addresses, c.VIPs)
			case v.Warn != "" && (v.Warn != WarnAddrListOwner || p.Priority != PriorityOwner):
				t.Fatalf("vrid %d: warning %q at priority %d", c.VRID, v.Warn, p.Priority)
			}
		}
	})
}

// seedCorpus is the committed seed corpus: file name -> encoded values.
func seedCorpus(t *testing.T) map[string]map[string][]any {
	t.Helper()
	un := map[string][]any{}
	ck := map[string][]any{}
	for i, hv := range handVectors {
		b := unhex(t, hv.wire)
		un[fmt.Sprintf("hand-%d", i)] = []any{b, FamilyOf(hv.src) == IPv6}
		ck[fmt.Sprintf("hand-%d", i)] = []any{uint8(255), hv.src.AsSlice(), hv.dst.AsSlice(), b}
	}
	gb, err := os.ReadFile(goldenPcap)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := readPcap(gb)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		name := fmt.Sprintf("keepalived-vrid%d-prio%d", m.Payload[1], m.Payload[2])
		if seen[name] {
			continue
		}
		seen[name] = true
		un[name] = []any{m.Payload, FamilyOf(m.Src) == IPv6}
		ck[name] = []any{m.TTL, m.Src.AsSlice(), m.Dst.AsSlice(), m.Payload}
	}
	for i, c := range []Config{cfgV2, cfgV3, cfgV36} {
		r := received(t, c, nil, nil)
		ck[fmt.Sprintf("instance-%d", i)] = []any{r.TTL, r.Src.AsSlice(), r.Dst.AsSlice(), r.Payload}
		owner := received(t, c, func(p *Packet) { p.Priority, p.Addresses = 255, p.Addresses[:1] }, nil)
		ck[fmt.Sprintf("instance-%d-owner-addrs", i)] = []any{owner.TTL, owner.Src.AsSlice(), owner.Dst.AsSlice(), owner.Payload}
	}
	many := Packet{Version: 2, Type: 1, VRID: 9, Priority: 7, Interval: 1, Addresses: make([]netip.Addr, 255)}
	for i := range many.Addresses {
		many.Addresses[i] = netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
	}
	mb, err := many.Marshal(src4, GroupIPv4)
	if err != nil {
		t.Fatal(err)
	}
	un["v2-255-addrs"] = []any{mb, false}
	un["too-short"] = []any{[]byte{0x31, 1, 100}, false}
	un["count-0"] = []any{[]byte{0x31, 1, 100, 0, 0, 100, 0, 0}, true}
	un["v3-reserved-bits"] = []any{[]byte{0x31, 1, 100, 1, 0xf0, 100, 0, 0, 192, 0, 2, 1}, false}
	return map[string]map[string][]any{"FuzzUnmarshal": un, "FuzzCheck": ck}
}

// encodeCorpus writes values in the "go test fuzz v1" file format.
func encodeCorpus(vals []any) []byte {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, v := range vals {
		switch v := v.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case uint8:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", v)
		default:
			panic(fmt.Sprintf("corpus value of type %T", v))
		}
	}
	return b.Bytes()
}

// TestFuzzCorpus keeps testdata/fuzz in step with seedCorpus (rewrite with
// -update-corpus). go test runs those files as FuzzUnmarshal/FuzzCheck cases.
func TestFuzzCorpus(t *testing.T) {
	for target, files := range seedCorpus(t) {
		dir := filepath.Join("testdata", "fuzz", target)
		if *updateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for name, vals := range files {
			path, want := filepath.Join(dir, name), encodeCorpus(vals)
			if *updateCorpus {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s missing or stale (go test -run TestFuzzCorpus -update-corpus): %v", path, err)
			}
		}
	}
}
