#!/usr/bin/env bash
# The whole test suite: set up the toolchain and the UML kernel, then every crate's tests in
# release (the block simulations are unusably slow unoptimised). A failing
# random test prints its seed (replay with HCA_SEED=<seed>) and the path of
# the waveform of the failing run. Ends with one line of totals.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-toolchain.sh
# The UML kernel the mlx4 driver test boots: built once (~4 min), cached
# outside the clone; its progress goes to stderr.
./scripts/build-uml-kernel.sh >/dev/null
cargo fmt --all -- --check
# Lints as errors, tests and benches included (release, to share the
# build with the tests).
cargo clippy --release --workspace --all-targets --quiet -- -D warnings
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --release --workspace "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
awk '/^test result:/ { for (i = 2; i <= NF; i++) { if ($i == "passed;") p += $(i-1); if ($i == "failed;") f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
