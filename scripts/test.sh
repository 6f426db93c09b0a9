#!/usr/bin/env bash
# The whole test suite: set up the toolchain, then every crate's tests in
# release (the block simulations are unusably slow unoptimised). A failing
# random test prints its seed (replay with HCA_SEED=<seed>) and the path of
# the waveform of the failing run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-toolchain.sh
cargo fmt --all -- --check
cargo test --release --workspace "$@"
