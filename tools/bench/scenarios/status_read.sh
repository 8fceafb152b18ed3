#!/usr/bin/env bash
# Status read: registry GetCaseStatus of cases with a programme (status cache hits)
# at concurrency 1, 8, 32, 64, against the health-check floor of the same server.
# Target: >= 0.8x the floor's calls/s and p99 <= 2x the floor's p99.
#
#   tools/bench/scenarios/status_read.sh            # BENCH_CASES=10000 by default
# Builds if needed, starts its own Pathway on loopback, seeds, measures, stops.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build
bench_start
bench_machine
bench_seed "${BENCH_CASES:-10000}"
"$build_dir/tools/bench/pathway_bench" --scenario=status --addr="$addr_registry" \
  --token_key_file="$key_file" --cases_file="$data_dir/cases.tsv" \
  --concurrency="${BENCH_CONCURRENCY:-1,8,32,64}" --duration_s="$duration_s" \
  --rounds="$rounds" --label="$(wc -l < "$data_dir/cases.tsv")"
