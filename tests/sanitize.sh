#!/usr/bin/env bash
# Builds every target with clang, AddressSanitizer and UndefinedBehaviorSanitizer
# (build-asan/) and runs the whole test suite there. .ci/run runs it after
# tests/run.sh; extra arguments go to ctest, e.g. tests/sanitize.sh -R registry.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build_dir="${PATHWAY_ASAN_BUILD_DIR:-$root/build-asan}"
jobs="${PATHWAY_JOBS:-$(nproc)}"

bash deploy/local/install-deps.sh
if [ ! -f "$build_dir/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPATHWAY_SANITIZE=address,undefined
fi
cmake --build "$build_dir" -j "$jobs"

# Any report fails the test that caused it (the build stops at the first one);
# symbolized stacks name the line.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$build_dir"
ctest --output-on-failure -j "$jobs" --timeout 600 "$@"
