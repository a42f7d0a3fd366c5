package kmod

import "testing"

func TestMatch(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"*", "", true},
		{"*", "a/b", true}, // no FNM_PATHNAME
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"pci:v00001AF4d*sv*sd*bc*sc*i*", "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00", true},
		{"pci:v00001AF4d*sv*sd*bc*sc*i*", "pci:v00008086d00001000sv00001AF4sd00000001bc02sc00i00", false},
		{"acpi*:LNXPWRBN:*", "acpi:LNXPWRBN:", true},
		{"usb:v*p*d*dc*dsc*dp*ic03isc01ip01in*", "usb:v0627p0001d0000dc00dsc00dp00ic03isc01ip01in00", true},
		{"[ab]x", "bx", true},
		{"[ab]x", "cx", false},
		{"[!ab]x", "cx", true},
		{"[^ab]x", "ax", false},
		{"[a-c]", "b", true},
		{"[a-c]", "d", false},
		{"[]]", "]", true},
		{"[a-]", "-", true},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{"[ab", "[ab", true},
		{"a*b*c", "aXbYbZc", true},
		{"*0094*", ",0000,0094,00E5", true},
	}
	for _, c := range cases {
		if got := Match(c.pattern, c.name); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"crc32c-intel":     "crc32c_intel",
		"ip_vs":            "ip_vs",
		"foo-[a-z]-bar":    "foo_[a-z]_bar",
		"virtio:d00000001": "virtio:d00000001",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"kernel/arch/x86/crypto/crc32c-intel.ko": "crc32c_intel",
		"kernel/drivers/net/virtio_net.ko.xz":    "virtio_net",
		"kernel/fs/ext4/ext4.ko.zst":             "ext4",
		"x.ko.gz":                                "x",
	} {
		if got := ModuleName(in); got != want {
			t.Errorf("ModuleName(%q) = %q, want %q", in, got, want)
		}
	}
}
