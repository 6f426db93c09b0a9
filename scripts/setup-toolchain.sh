#!/usr/bin/env bash
# Install what the project needs that is missing, from Debian's packages:
# Verilator (simulation and lint), Yosys (synthesis), nextpnr-ice40 and
# icestorm (iCE40 place, route and bitstreams), tshark (the fabric's
# captures are checked by Wireshark's own dissector). Idempotent: when everything
# is there it only prints the versions it found.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have verilator || need+=(verilator)
have yosys || need+=(yosys)
have nextpnr-ice40 || need+=(nextpnr-ice40)
have icepack || need+=(fpga-icestorm fpga-icestorm-chipdb)
# Verilator compiles its models with a C++ compiler and needs perl at run time.
have g++ || need+=(g++)
have perl || need+=(perl)
have tshark || need+=(tshark)

if ((${#need[@]})); then
    echo "setup-toolchain: installing ${need[*]}"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        have sudo || { echo "setup-toolchain: need root (or sudo) to install ${need[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! have cargo; then
    echo "setup-toolchain: cargo not found; install Rust (rustup) first" >&2
    exit 1
fi

vl=$(verilator --version | awk '{print $2}')
case "$vl" in
    5.*) ;;
    *) echo "setup-toolchain: Verilator $vl found; the build needs Verilator 5" >&2; exit 1 ;;
esac

echo "setup-toolchain: verilator $vl, $(yosys -V | awk '{print "yosys", $2}'), nextpnr-ice40 $(nextpnr-ice40 --version 2>&1 | sed -n 's/.*Version \([^)]*\)).*/\1/p' | head -1), icepack $(dpkg-query -W -f='${Version}' fpga-icestorm 2>/dev/null || echo '?'), tshark $(dpkg-query -W -f='${Version}' tshark 2>/dev/null || echo '?'), $(cargo --version | awk '{print "cargo", $2}')"
