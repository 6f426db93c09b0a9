#!/usr/bin/env bash
# Build the User-Mode Linux kernel the upstream mlx4 driver runs in, and a
# busybox root for it, from Debian's packages. Nothing lands in the clone:
# the result is cached under $HCA_CACHE (default ~/.cache/hca), keyed by the
# kernel package version and this script's configuration, and a second run
# with a good cache only prints where it is.
#
# One change to the kernel source is made at build time, and said: the
# `if !UML ... endif` block of drivers/infiniband/Kconfig hides mlx4_ib from
# ARCH=um; the line that sources drivers/infiniband/hw/mlx4/Kconfig moves
# below that endif. No driver code changes.
#
# Prints the kernel's path and the root's path on its last two lines.
set -euo pipefail

PKG=linux-source-6.1
DEVICE_ID=1234 # UML_PCI_OVER_VIRTIO_DEVICE_ID; the UML command line names it too
OPTIONS=(
    VIRTIO_UML UML_PCI_OVER_VIRTIO PCI PCI_MSI
    INFINIBAND INFINIBAND_ADDR_TRANS MLX4_CORE MLX4_INFINIBAND INFINIBAND_IPOIB
    RDS RDS_RDMA DEVTMPFS DEVTMPFS_MOUNT
)

log() { echo "build-uml-kernel: $*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

need=()
dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q "ok installed" || need+=("$PKG")
for p in bc bison flex libelf-dev busybox-static xz-utils; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
if ((${#need[@]})); then
    log "installing ${need[*]}"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        have sudo || { log "need root (or sudo) to install ${need[*]}"; exit 1; }
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

version=$(dpkg-query -W -f='${Version}' "$PKG")
key=$( (echo "$version"; echo "$DEVICE_ID"; printf '%s\n' "${OPTIONS[@]}"; sed -n '/^build_kernel()/,$p' "$0") | sha256sum | cut -c1-16)
cache="${HCA_CACHE:-$HOME/.cache/hca}/uml/$version-$key"
kernel="$cache/linux"
# The root has a key of its own (its builder's text): a change to the
# guest's init rebuilds the root, not the kernel.
rootkey=$(sed -n '/^build_rootfs()/,/^}/p' "$0" | sha256sum | cut -c1-8)
rootfs="$cache/rootfs-$rootkey"

build_rootfs() {
    local tmp="$cache/rootfs.tmp"
    rm -rf "$tmp"
    mkdir -p "$tmp"/{bin,sbin,dev,proc,sys,tmp,etc,mnt/hca}
    cp /bin/busybox "$tmp/bin/busybox"
    for app in $("$tmp/bin/busybox" --list); do
        [ "$app" = busybox ] || ln -sf busybox "$tmp/bin/$app"
    done
    cat > "$tmp/init" <<'INIT'
#!/bin/sh
# The UML guest's init: mount what the kernel offers, say what the mlx4
# driver made of the device, run the run's own script if the kernel
# command line names a host directory holding one (hca_run=DIR: DIR/guest
# is run with the host's number, hca_host=N, as its argument), and power
# off.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "hca-uml: up; PCI devices:"
ls /sys/bus/pci/devices 2>/dev/null
[ -x /etc/hca-test ] && /etc/hca-test
run=; host=0
for w in $(cat /proc/cmdline); do
    case "$w" in
        hca_run=*) run="${w#hca_run=}" ;;
        hca_host=*) host="${w#hca_host=}" ;;
    esac
done
if [ -n "$run" ]; then
    if mount -t hostfs -o "$run" none /mnt/hca && [ -x /mnt/hca/guest ]; then
        /mnt/hca/guest "$host"
        echo "hca-uml: guest script exited $?"
    else
        echo "hca-uml: no guest script at $run/guest"
    fi
fi
echo "hca-uml: done"
poweroff -f
INIT
    chmod +x "$tmp/init"
    mv "$tmp" "$rootfs"
}

build_kernel() {
    local src="$cache/src"
    rm -rf "$src"
    mkdir -p "$src"
    log "unpacking $PKG $version"
    tar -xf /usr/src/linux-source-6.1.tar.xz -C "$src" --strip-components=1
    local kconfig="$src/drivers/infiniband/Kconfig"
    local line='source "drivers/infiniband/hw/mlx4/Kconfig"'
    grep -qF "$line" "$kconfig" || { log "$kconfig has no '$line': the kernel changed"; exit 1; }
    log "moving '$line' out of the 'if !UML' block of drivers/infiniband/Kconfig (no driver code changes)"
    grep -vF "$line" "$kconfig" > "$kconfig.new"
    # Put it back right after the `endif` closing the `if !UML` block.
    python3 - "$kconfig.new" "$kconfig" "$line" <<'PY'
import sys
src, dst, line = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(src).read().split("\n")
start = next(i for i, l in enumerate(lines) if l.strip() == "if !UML")
# The block's own `endif` (6.1 writes it `endif # !UML`); the `if !UML`
# block holds no nested `if`, so the first `endif` after it is its own.
end = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("endif"))
lines.insert(end + 1, line)
open(dst, "w").write("\n".join(lines))
PY
    rm -f "$kconfig.new"
    log "configuring"
    make -C "$src" ARCH=um defconfig >/dev/null
    local opts=()
    for o in "${OPTIONS[@]}"; do opts+=(--enable "$o"); done
    "$src/scripts/config" --file "$src/.config" "${opts[@]}" --set-val UML_PCI_OVER_VIRTIO_DEVICE_ID "$DEVICE_ID"
    make -C "$src" ARCH=um olddefconfig >/dev/null
    for o in "${OPTIONS[@]}"; do
        grep -q "^CONFIG_$o=y" "$src/.config" || { log "CONFIG_$o did not stick"; exit 1; }
    done
    grep -q "^CONFIG_UML_PCI_OVER_VIRTIO_DEVICE_ID=$DEVICE_ID" "$src/.config" || { log "the device id did not stick"; exit 1; }
    log "building (about 5 minutes on 2 cores)"
    local start=$SECONDS
    make -C "$src" ARCH=um -j"$(nproc)" linux > "$cache/build.log" 2>&1 || {
        tail -30 "$cache/build.log" >&2
        log "kernel build failed; the whole log is $cache/build.log"
        exit 1
    }
    log "built in $((SECONDS - start)) s"
    cp "$src/linux" "$kernel.tmp"
    cp "$src/.config" "$cache/config"
    mv "$kernel.tmp" "$kernel"
    rm -rf "$src"
}

mkdir -p "$cache"
if [ -x "$kernel" ] && [ -x "$rootfs/init" ]; then
    log "cached: Linux $version (UML), $cache"
else
    [ -x "$kernel" ] || build_kernel
    [ -x "$rootfs/init" ] || build_rootfs
fi
echo "$kernel"
echo "$rootfs"
