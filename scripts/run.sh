#!/usr/bin/env bash
# The main job: set up the toolchain, build `hca` and run it. Today that is
# a short random run of the atomic unit on the model, the rust-hdl
# simulation and the Verilator build, with a summary and the waveform paths.
# Extra arguments go to `hca run` (for example --ops 100000 --seed 42).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-toolchain.sh
cargo build --release --quiet --bin hca
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
exec "$target_dir/release/hca" run "$@"
