#!/usr/bin/env bash
# The fuzz smoke run of CI: every fuzz target, on stable Rust, for SECONDS in all
# (default 60), through src/bin/smoke.rs. The full libFuzzer runs (cargo fuzz, nightly or
# RUSTC_BOOTSTRAP=1) are in RELIABILITY.md.
#
# Skipped, with a line saying why, where it cannot run: no cargo, or the fuzz crate's
# dependencies cannot be fetched. A build error of the fuzz crate itself, or anything the
# run finds (panic, stack overflow, hang, script in the output, a write outside the
# output folder), fails: the input is kept in fuzz/artifacts/TARGET/.
set -uo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
if ! command -v cargo >/dev/null; then
  echo "fuzz smoke: skipped: no cargo on this machine"
  exit 0
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! cargo fetch --locked >"$log" 2>&1; then
  echo "fuzz smoke: skipped: the fuzz crate's dependencies cannot be fetched here:"
  tail -n 5 "$log"
  exit 0
fi
if ! cargo build --release --locked --no-default-features --bin smoke >"$log" 2>&1; then
  echo "fuzz smoke: the smoke runner does not build:"
  tail -n 30 "$log"
  exit 1
fi
exec "${CARGO_TARGET_DIR:-target}/release/smoke" --seconds "$seconds"
