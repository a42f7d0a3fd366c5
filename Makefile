# lvsbox — one command runs the appliance (make run), one passes all tests (make test).
SHELL       := /bin/bash
BOARD       ?= qemu-x86_64
OUT         := out/$(BOARD)
GO          ?= go
export CGO_ENABLED := 0
export GOAMD64     := v1
GOTESTFLAGS ?=
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck

# Host packages the build, `make run` and the tests need (Debian names).
HOST_PKGS := qemu-system-x86 qemu-utils e2fsprogs kmod cpio iproute2 ipvsadm ethtool keepalived \
             tcpdump procps ca-certificates

.PHONY: all deps image run test test-unit test-vm fuzz bench-ipvs lint clean

all: image

deps: ## install missing host packages and Go modules
	@missing=$$(for p in $(HOST_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing $$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq $$missing >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $$missing; }; \
	fi
	@$(GO) mod download

image: ## build out/$(BOARD)/{vmlinuz,initramfs.cpio.gz,manifest.json}
	$(GO) run ./images/cmd/mkimage -board $(BOARD) -out $(OUT)

run: ## build what is missing and boot the QEMU image (console here, web UI on localhost)
	BOARD=$(BOARD) images/run-qemu.sh

test: deps image ## unit, host-netns and VM tests (root), all required, then a short fuzz run
	LVSBOX_REQUIRE_ALL=1 $(GO) test -count=1 -timeout 35m $(GOTESTFLAGS) ./...
	$(MAKE) --no-print-directory fuzz

# Fuzz targets (package:Func); `make fuzz FUZZTIME=2000000x` for a longer run. The budget is a count
# of executions, not a duration: Go 1.26's fuzz coordinator can report a spurious "context deadline
# exceeded" when a duration budget expires under CPU load (golang/go#75804, fixed in Go 1.27).
FUZZ_TARGETS := ./appliance/config:FuzzDecode ./appliance/vrrp:FuzzUnmarshal ./appliance/vrrp:FuzzCheck \
                ./appliance/importer/keepalived:FuzzImport ./appliance/importer/ipvsadm:FuzzImport
FUZZTIME ?= 100000x
fuzz: ## a short run of every fuzz target (corpora in testdata/fuzz)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; fn=$${t##*:}; echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -timeout 10m $$pkg; \
	done

test-unit: ## pure unit tests, no root needed
	$(GO) test -count=1 -short ./...

test-vm: deps image
	LVSBOX_REQUIRE_ALL=1 $(GO) test -count=1 -timeout 30m -v ./tools/vmtest/...

bench-ipvs: deps image ## IPVS apply/reconcile benchmark vs ipvsadm -R, in a TCG guest (figures, minutes)
	LVSBOX_BENCH=1 $(GO) test -count=1 -v -timeout 60m -run TestIPVSBench ./tools/vmtest/

lint: ## gofmt, go vet, staticcheck
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

clean:
	rm -rf out/
