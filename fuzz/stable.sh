#!/usr/bin/env bash
# Coverage-guided fuzzing without nightly or cargo-fuzz: builds the targets
# with the SanitizerCoverage flags cargo-fuzz passes (no address sanitizer,
# which needs nightly) and runs one with libFuzzer.
#   fuzz/stable.sh client_decoder 300   # target, seconds (default 60)
set -euo pipefail
cd "$(dirname "$0")"
target="${1:?usage: fuzz/stable.sh <client_decoder|server_decoder|typed_client> [seconds]}"
seconds="${2:-60}"
triple="$(rustc -vV | sed -n 's/^host: //p')"
# --target keeps the flags off build scripts and proc macros.
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
  -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares \
  -Cdebug-assertions -Coverflow-checks" \
  cargo build --release --target "$triple" --bin "$target"
mkdir -p "corpus/$target" artifacts
exec "target/$triple/release/$target" "corpus/$target" -artifact_prefix=artifacts/ \
  -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=1024 -timeout=10
