#!/usr/bin/env bash
# Installs what is missing, builds (Release) and runs every test with ctest.
# Idempotent; a second run rebuilds only what changed.
#
#   tests/run.sh                 # everything
#   tests/run.sh -L unit         # extra arguments go to ctest
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

cd "$build_dir"
ctest --output-on-failure -j "$jobs" "$@"
