package kmod

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

const testDir = "testdata/modules"

// fakeLoader records loads; it checks the file exists and fails for names in
// fail. onLoad runs after a successful load (to make devices "appear").
type fakeLoader struct {
	t      *testing.T
	loads  []string
	params map[string]string
	fail   map[string]error
	onLoad func(name string)
}

func (f *fakeLoader) Load(p, params string) error {
	if _, err := os.Stat(p); err != nil {
		f.t.Errorf("loader got a path that does not exist: %v", err)
	}
	name := ModuleName(p)
	if err := f.fail[name]; err != nil {
		return err
	}
	f.loads = append(f.loads, name)
	if params != "" {
		if f.params == nil {
			f.params = map[string]string{}
		}
		f.params[name] = params
	}
	if f.onLoad != nil {
		f.onLoad(name)
	}
	return nil
}

func loadIndex(t *testing.T) *Index {
	t.Helper()
	idx, err := LoadIndex(os.DirFS(testDir))
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func TestLoadIndex(t *testing.T) {
	idx := loadIndex(t)
	ipvs := idx.Modules["ip_vs"]
	if ipvs == nil || ipvs.Path != "kernel/net/ip_vs.ko" ||
		!reflect.DeepEqual(ipvs.Deps, []string{"nf_conntrack", "nf_defrag_ipv6", "nf_defrag_ipv4", "libcrc32c"}) {
		t.Fatalf("ip_vs = %+v", ipvs)
	}
	if idx.Modules["crc32c_intel"] == nil {
		t.Error("crc32c-intel.ko not normalized to crc32c_intel")
	}
	if idx.Modules["virtio_net"] == nil || idx.Modules["virtio_net"].Path != "kernel/drivers/virtio_net.ko.xz" {
		t.Error("compressed module not indexed")
	}
	if !reflect.DeepEqual(idx.Softdeps["libcrc32c"], Softdep{Pre: []string{"crc32c"}}) {
		t.Errorf("libcrc32c softdep = %+v", idx.Softdeps["libcrc32c"])
	}
	if !reflect.DeepEqual(idx.Softdeps["post_user"], Softdep{Pre: []string{"nonexistent_thing"}, Post: []string{"post_helper"}}) {
		t.Errorf("post_user softdep = %+v", idx.Softdeps["post_user"])
	}
	if sd := idx.Softdeps["failover"]; len(sd.Pre)+len(sd.Post) != 0 {
		t.Errorf("tokens before pre:/post: must be ignored, got %+v", sd)
	}
	for _, b := range []string{"crc16", "mbcache", "ext4"} {
		if !idx.Builtin[b] {
			t.Errorf("%s not builtin", b)
		}
	}
}

func TestLoadIndexMissingDep(t *testing.T) {
	_, err := LoadIndex(fstest.MapFS{})
	if err == nil || !strings.Contains(err.Error(), "modules.dep") {
		t.Fatalf("err = %v", err)
	}
	_, err = LoadIndex(fstest.MapFS{"modules.dep": {Data: []byte("no colon here\n")}})
	if err == nil {
		t.Fatal("malformed modules.dep accepted")
	}
}

func TestResolve(t *testing.T) {
	idx := loadIndex(t)
	cases := map[string][]string{
		"ip_vs":          {"ip_vs"},
		"ip-vs":          {"ip_vs"},
		"crc32c":         {"crc32c_intel", "crc32c_generic"},
		"crypto-crc32c":  {"crc32c_intel", "crc32c_generic"},
		"crc32c-generic": {"crc32c_generic"},
		"crc16":          {"crc16"},
		"fs-ext4":        {"ext4"},
		"pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00":      {"virtio_pci"},
		"virtio:d00000002v00001AF4":                                  {"virtio_blk"},
		"acpi:LNXPWRBN:":                                             {"button"},
		"cpu:type:x86,ven0000fam0006mod003F:feature:,0000,0094,00E5": {"crc32c_intel"},
		"pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00":      nil,
		"nope": nil,
	}
	for in, want := range cases {
		if got := idx.Resolve(in); !reflect.DeepEqual(got, want) {
			t.Errorf("Resolve(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestProbeOrderWithSoftdepViaAlias(t *testing.T) {
	idx := loadIndex(t)
	fl := &fakeLoader{t: t}
	dir, _ := filepath.Abs(testDir)
	p := NewProber(idx, dir, fl, nil, nil)
	if err := p.Probe("ip_vs_wrr"); err != nil {
		t.Fatal(err)
	}
	// The crc32c providers come before libcrc32c (softdep pre: crc32c,
	// resolved through modules.alias); dependencies load last-listed first.
	want := []string{"crc32c_intel", "crc32c_generic", "libcrc32c", "nf_defrag_ipv4", "nf_defrag_ipv6", "nf_conntrack", "ip_vs", "ip_vs_wrr"}
	if !reflect.DeepEqual(fl.loads, want) {
		t.Fatalf("load order\n got %v\nwant %v", fl.loads, want)
	}
	if !reflect.DeepEqual(p.Loaded, want) {
		t.Errorf("Loaded = %v", p.Loaded)
	}
	// Nothing is loaded twice.
	if err := p.Probe("ip_vs"); err != nil || len(fl.loads) != len(want) {
		t.Errorf("second probe: %v, loads %v", err, fl.loads)
	}
}

func TestProbeParams(t *testing.T) {
	idx := loadIndex(t)
	fl := &fakeLoader{t: t}
	p := NewProber(idx, testDir, fl, nil, nil)
	p.SetParams(map[string]string{"ip-vs": "conn_tab_bits=12", "virtio_ring": "x=1"})
	if err := p.Probe("ip_vs"); err != nil {
		t.Fatal(err)
	}
	if err := p.Probe("virtio_blk"); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ip_vs": "conn_tab_bits=12", "virtio_ring": "x=1"}
	if !reflect.DeepEqual(fl.params, want) {
		t.Errorf("params %v", fl.params)
	}
}

func TestProbeAliasOneCandidateFailing(t *testing.T) {
	idx := loadIndex(t)
	// crc32c_intel fails with ENODEV on a CPU without SSE4.2; the generic
	// one is enough.
	fl := &fakeLoader{t: t, fail: map[string]error{"crc32c_intel": errors.New("no such device")}}
	p := NewProber(idx, testDir, fl, nil, nil)
	if err := p.Probe("ip_vs"); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(fl.loads, "crc32c_generic") || !slices.Contains(fl.loads, "ip_vs") {
		t.Fatalf("loads %v", fl.loads)
	}
	// Probing the alias alone also succeeds.
	if err := p.Probe("crc32c"); err != nil {
		t.Fatal(err)
	}
	// ... and fails when every candidate fails.
	fl2 := &fakeLoader{t: t, fail: map[string]error{"crc32c_intel": errors.New("x"), "crc32c_generic": errors.New("y")}}
	p2 := NewProber(idx, testDir, fl2, nil, nil)
	if err := p2.Probe("crc32c"); err == nil {
		t.Fatal("all candidates failed but Probe succeeded")
	}
}

func TestProbeDependencyFailure(t *testing.T) {
	idx := loadIndex(t)
	fl := &fakeLoader{t: t, fail: map[string]error{"nf_conntrack": errors.New("boom")}}
	p := NewProber(idx, testDir, fl, nil, nil)
	err := p.Probe("ip_vs")
	if err == nil || !strings.Contains(err.Error(), "dependency nf_conntrack") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
	if slices.Contains(fl.loads, "ip_vs") {
		t.Fatal("ip_vs loaded although a dependency failed")
	}
	if p.Failed["nf_conntrack"] == nil || p.Failed["ip_vs"] == nil {
		t.Errorf("Failed = %v", p.Failed)
	}
	// The failure is remembered, not retried.
	n := len(fl.loads)
	if err := p.Probe("ip_vs_wrr"); err == nil || len(fl.loads) != n {
		t.Errorf("retried: %v %v", err, fl.loads)
	}
}

func TestProbeBuiltinLoadedAndMissing(t *testing.T) {
	idx := loadIndex(t)
	fl := &fakeLoader{t: t}
	p := NewProber(idx, testDir, fl, []string{"virtio_ring", "virtio"}, nil)
	for _, n := range []string{"crc16", "fs-ext4", "mbcache"} {
		if err := p.Probe(n); err != nil {
			t.Errorf("builtin %s: %v", n, err)
		}
	}
	if err := p.Probe("virtio_blk"); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fl.loads, []string{"virtio_blk"}) {
		t.Errorf("already loaded modules reloaded: %v", fl.loads)
	}
	if err := p.Probe("does_not_exist"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing module: %v", err)
	}
	if !p.IsLoaded("crc16") || !p.IsLoaded("virtio-blk") || p.IsLoaded("ip_vs") {
		t.Error("IsLoaded wrong")
	}
}

func TestProbeCycleAndPostSoftdep(t *testing.T) {
	idx := loadIndex(t)
	fl := &fakeLoader{t: t}
	p := NewProber(idx, testDir, fl, nil, nil)
	if err := p.Probe("cyc_a"); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("cycle: %v", err)
	}
	// post_user: missing pre softdep is only a warning; post softdep after.
	if err := p.Probe("net-pf-99"); err != nil {
		t.Fatal(err)
	}
	if i, j := slices.Index(fl.loads, "post_user"), slices.Index(fl.loads, "post_helper"); i < 0 || j < i {
		t.Errorf("post softdep order: %v", fl.loads)
	}
}

func TestColdplug(t *testing.T) {
	idx := loadIndex(t)
	sys := fstest.MapFS{
		"bus/pci/devices/0000:00:03.0/modalias":  {Data: []byte("pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00\n")},
		"bus/pci/devices/0000:00:04.0/modalias":  {Data: []byte("pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00\n")},
		"bus/pci/devices/0000:00:01.0/modalias":  {Data: []byte("pci:v00008086d00007000sv00001AF4sd00001100bc06sc01i00\n")},
		"bus/pci/devices/0000:00:01.0/driver":    {Mode: os.ModeSymlink},
		"bus/acpi/devices/LNXPWRBN:00/modalias":  {Data: []byte("acpi:LNXPWRBN:\n")},
		"bus/platform/devices/serial8250/uevent": {Data: []byte("DRIVER=serial8250\n")},
	}
	fl := &fakeLoader{t: t}
	fl.onLoad = func(name string) {
		if name == "virtio_pci" { // bus driver loaded: virtio devices appear
			sys["bus/virtio/devices/virtio0/modalias"] = &fstest.MapFile{Data: []byte("virtio:d00000001v00001AF4\n")}
			sys["bus/virtio/devices/virtio1/modalias"] = &fstest.MapFile{Data: []byte("virtio:d00000002v00001AF4\n")}
		}
	}
	p := NewProber(idx, testDir, fl, nil, nil)
	res := p.Coldplug(sys, 4)
	for _, m := range []string{"virtio_pci", "button", "virtio_net", "virtio_blk"} {
		if !slices.Contains(fl.loads, m) {
			t.Errorf("%s not coldplugged (loads %v)", m, fl.loads)
		}
	}
	if res.Devices != 5 || res.Matched != 5 || len(res.Failed) != 0 {
		t.Errorf("result %+v", res)
	}
}

func TestModaliasesSkipsBoundDevices(t *testing.T) {
	sys := fstest.MapFS{
		"bus/pci/devices/a/modalias": {Data: []byte("x\n")},
		"bus/pci/devices/b/modalias": {Data: []byte("x\n")},
		"bus/pci/devices/c/modalias": {Data: []byte("y\n")},
		"bus/pci/devices/c/driver":   {Mode: os.ModeSymlink},
		"bus/pci/devices/d/modalias": {Data: []byte("\n")},
	}
	if got := Modaliases(sys); !reflect.DeepEqual(got, []string{"x"}) {
		t.Errorf("got %v", got)
	}
}
