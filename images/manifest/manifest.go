package manifest

import (
	"encoding/json"
	"fmt"
	"os"
)

// Kernel records the kernel package the image was built from.
type Kernel struct {
	Requested string `json:"requested"`  // the board's package (often the metapackage)
	Package   string `json:"package"`    // concrete package
	Version   string `json:"version"`    // exact Debian version
	Release   string `json:"release"`    // uname -r
	DebSHA256 string `json:"deb_sha256"` // of the downloaded .deb
}

// File is one output file.
type File struct {
	Path   string `json:"path"` // relative to the output directory
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Initramfs is the compressed archive plus its uncompressed size.
type Initramfs struct {
	File
	RawBytes int64 `json:"raw_bytes"`
}

// Modules is what the image carries of the kernel's modules.
type Modules struct {
	Load     []string `json:"load"`     // board.json "modules", load order
	Optional []string `json:"optional"` // board.json "optional_modules"
	Builtin  []string `json:"builtin,omitempty"`
	Files    []string `json:"files"` // under /lib/modules/RELEASE
}

// Manifest is out/BOARD/manifest.json.
type Manifest struct {
	Board           string    `json:"board"`
	Kernel          Kernel    `json:"kernel"`
	GoVersion       string    `json:"go_version"`
	GitRevision     string    `json:"git_revision"`
	Cmdline         string    `json:"cmdline"`
	Console         string    `json:"console"`
	Commands        []string  `json:"commands"`
	MissingCommands []string  `json:"missing_commands,omitempty"`
	Vmlinuz         File      `json:"vmlinuz"`
	Initramfs       Initramfs `json:"initramfs"`
	Busybox         File      `json:"busybox"`
	ISO             *File     `json:"iso,omitempty"`
	Modules         Modules   `json:"modules"`
	BuildSeconds    float64   `json:"build_seconds"`
}

// Version is the image's /etc/lvsbox/version.json.
type Version struct {
	GitRevision   string `json:"git_revision"`
	GoVersion     string `json:"go_version"`
	KernelVersion string `json:"kernel_version"` // uname -r of the image's kernel
	Board         string `json:"board"`
	// KernelPackage (additive to the contract): "PACKAGE=VERSION".
	KernelPackage string `json:"kernel_package"`
}

// Encode renders v as indented JSON with a trailing newline.
func Encode(v any) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("manifest: encode: %w", err)
	}
	return append(data, '\n'), nil
}

// Read loads a manifest.json.
func Read(p string) (Manifest, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return Manifest{}, fmt.Errorf("manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return Manifest{}, fmt.Errorf("manifest: %s: %w", p, err)
	}
	return m, nil
}
