#!/usr/bin/env bash
# Boot the lvsbox QEMU image with the serial console on this terminal.
#
#   images/run-qemu.sh            (what `make run` calls)
#
# Environment:
#   BOARD             board to boot (default qemu-x86_64)
#   LVSBOX_HTTP_PORT  host port forwarded to the guest's web UI (default 8080)
#   LVSBOX_HTTPS_PORT host port forwarded to the guest's HTTPS API (default 8443)
#   LVSBOX_DATA_SIZE  size of a new data disk (default 256M)
#   LVSBOX_REBUILD=1  rebuild the image even if it looks up to date
#   LVSBOX_QEMU_ARGS  extra arguments appended to the qemu command line
#
# Leave with Ctrl-A X, or power off from the guest. QEMU runs in the
# foreground (exec), so nothing is left behind.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
board="${BOARD:-qemu-x86_64}"
out="out/$board"
port="${LVSBOX_HTTP_PORT:-8080}"
tlsport="${LVSBOX_HTTPS_PORT:-8443}"
data="$out/data.qcow2"
seed="board/$board/seed.json"

log() { printf 'run-qemu: %s\n' "$*" >&2; }

# Host packages: install what is missing; apt-get update only if that fails.
need_pkgs=()
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
command -v qemu-img >/dev/null || need_pkgs+=(qemu-utils)
command -v mkfs.ext4 >/dev/null || need_pkgs+=(e2fsprogs)
if ((${#need_pkgs[@]})); then
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  log "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y -qq "${need_pkgs[@]}" ||
    { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq "${need_pkgs[@]}"; }
fi

# Build when the image is missing or any input (Go code, go.mod/go.sum,
# board files, embedded assets; not docs or tests) is newer than it.
stale() {
  local m="$out/manifest.json"
  [[ -f $m && -f $out/vmlinuz && -f $out/initramfs.cpio.gz && -f $out/cmdline ]] || return 0
  [[ ${LVSBOX_REBUILD:-0} == 1 ]] && return 0
  [[ -n $(find . \( -path ./out -o -path ./.git -o -path ./docs -o -name node_modules \) -prune -o \
      -type f ! -name '*.md' ! -name '*_test.go' -newer "$m" -print -quit) ]]
}
if stale; then
  log "building $out"
  go run ./images/cmd/mkimage -board "$board" -out "$out"
fi

# Persistent data disk: ext4 labelled lvsbox-data, made in a raw file and
# converted (never mounted on the host).
if [[ ! -f $data ]]; then
  log "creating data disk $data"
  raw="$(mktemp "$out/.data-XXXXXX.raw")"
  trap 'rm -f "$raw"' EXIT
  truncate -s "${LVSBOX_DATA_SIZE:-256M}" "$raw"
  mkfs.ext4 -q -F -L lvsbox-data "$raw"
  qemu-img convert -O qcow2 "$raw" "$data.tmp"
  mv "$data.tmp" "$data"
  rm -f "$raw"
  trap - EXIT
fi

cmdline="$(<"$out/cmdline")"
args=(
  -m 512 -nographic -no-reboot -serial mon:stdio
  -kernel "$out/vmlinuz" -initrd "$out/initramfs.cpio.gz" -append "$cmdline"
  -drive "file=$data,if=virtio,format=qcow2"
  -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:80,hostfwd=tcp:127.0.0.1:$tlsport-:443"
  -device virtio-net-pci,netdev=n0
  -device virtio-rng-pci
)
[[ -f $seed ]] && args+=(-fw_cfg "name=opt/lvsbox/seed.json,file=$seed")
# shellcheck disable=SC2206 # word splitting of extra args is intended
[[ -n ${LVSBOX_QEMU_ARGS:-} ]] && args+=(${LVSBOX_QEMU_ARGS})

echo "lvsbox web UI: http://localhost:$port/   API (HTTPS, self-signed): https://localhost:$tlsport/api/v1/"
echo "(console below; leave with Ctrl-A X)"
exec qemu-system-x86_64 "${args[@]}"
