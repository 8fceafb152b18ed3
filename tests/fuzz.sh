#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer (build-fuzz/), and runs each for a while from its seed
# corpus. tests/run.sh runs them briefly; run longer by hand or on a schedule:
#
#   tests/fuzz.sh            # 10 s per target
#   tests/fuzz.sh 3600       # an hour per target
#
# A crash stops the script with the input that caused it (crash-*) in the current
# folder: replay it with build-fuzz/tests/fuzz/<target>_fuzz crash-...
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-10}"
build_dir="${PATHWAY_FUZZ_BUILD_DIR:-$root/build-fuzz}"
jobs="${PATHWAY_JOBS:-$(nproc)}"

bash deploy/local/install-deps.sh
if [ ! -f "$build_dir/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPATHWAY_BUILD_TESTS=OFF -DPATHWAY_FUZZ=ON -DPATHWAY_SANITIZE=address,undefined
fi
cmake --build "$build_dir" -j "$jobs" --target fuzz_targets

for target in case_id resident_id csv token registry_request isolation_request supervision_engine \
    placement_request; do
  # New inputs go to a scratch folder; the committed seeds stay as they are.
  scratch="$(mktemp -d)"
  echo "fuzz: $target for ${seconds}s"
  status=0
  "$build_dir/tests/fuzz/${target}_fuzz" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 "$scratch" "$root/tests/fuzz/corpus/$target" \
    > "$scratch.log" 2>&1 || status=$?
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY)' "$scratch.log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$scratch.log" >&2
    echo "fuzz: $target failed (exit $status)" >&2
    exit "$status"
  fi
  rm -rf "$scratch" "$scratch.log"
done
echo "fuzz: all targets ran clean"
