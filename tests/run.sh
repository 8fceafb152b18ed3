#!/usr/bin/env bash
# Installs what is missing, builds (Release) and runs every test with ctest on SQLite,
# then every test that touches a store (label `store`) again on PostgreSQL 15 (each
# test binary starts its own server in a temporary directory), then each fuzz target
# briefly (tests/fuzz.sh, clang with ASan and UBSan in build-fuzz/).
# Idempotent; a second run rebuilds only what changed.
#
#   tests/run.sh                 # everything
#   tests/run.sh -L unit         # extra arguments go to ctest (and skip the fuzzing)
#   PATHWAY_TEST_ENGINES=sqlite tests/run.sh     # one engine only
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

engines="${PATHWAY_TEST_ENGINES:-sqlite postgres}"
for engine in $engines; do
  case "$engine" in
    sqlite) (cd "$build_dir" && ctest --output-on-failure -j "$jobs" "$@") ;;
    postgres)
      echo "== the tests that touch a store, on PostgreSQL"
      (cd "$build_dir" && PATHWAY_TEST_DATABASE=postgres \
        ctest --output-on-failure -j "$jobs" -L store "$@") ;;
    *) echo "unknown engine $engine in PATHWAY_TEST_ENGINES" >&2; exit 2 ;;
  esac
done

if [ "$#" -eq 0 ]; then
  bash tests/fuzz.sh "${PATHWAY_FUZZ_SECONDS:-10}"
fi
