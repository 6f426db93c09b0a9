#!/usr/bin/env bash
# The main job: set up the toolchain, build `hca` and run it: a random run
# of every block on the model, the rust-hdl simulation and the Verilator
# build, with a summary and the waveform paths; then the project's Rust
# driver bringing one HCA up in process on the Verilator build (objects
# and a command table); then two HCAs on a fabric carrying a mix of RC and
# UD operations through lossy links; then two User-Mode Linux kernels,
# each running the upstream mlx4 driver against a simulated HCA of its
# own, on one fabric whose subnet manager brings both ports ACTIVE (kernel
# logs in waves/uml-kernel.log, the subnet's capture in waves/subnet.pcap,
# command tables and summaries on the terminal).
# Extra arguments go to `hca run` (for example --ops 100000 --seed 42).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-toolchain.sh
cargo build --release --quiet --bin hca
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
"$target_dir/release/hca" run "$@"
"$target_dir/release/hca" bringup --engine verilator
"$target_dir/release/hca" traffic --engine verilator --count 1400 --loss 0.01 --corrupt 0.01 --reorder 0.01
mkdir -p waves
exec "$target_dir/release/hca" uml --hosts 2 --summary --kernel-log waves/uml-kernel.log --pcap waves/subnet.pcap
