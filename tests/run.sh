#!/usr/bin/env bash
# Installs what is missing, builds (Release) and runs every test with ctest, then each
# fuzz target briefly (tests/fuzz.sh, clang with ASan and UBSan in build-fuzz/).
# Idempotent; a second run rebuilds only what changed.
#
#   tests/run.sh                 # everything
#   tests/run.sh -L unit         # extra arguments go to ctest (and skip the fuzzing)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash deploy/local/install-deps.sh

build_dir="${PATHWAY_BUILD_DIR:-$root/build}"
jobs="${PATHWAY_JOBS:-$(nproc)}"
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build_dir" -j "$jobs"

(cd "$build_dir" && ctest --output-on-failure -j "$jobs" "$@")

if [ "$#" -eq 0 ]; then
  bash tests/fuzz.sh "${PATHWAY_FUZZ_SECONDS:-10}"
fi
