#!/usr/bin/env bash
# Batch status read: registry BatchGetCaseStatus of 100 ids per call at concurrency
# 1, 8, 32, against the health-check floor of the same server (calls/s; ids/s is
# 100x that).
#
#   tools/bench/scenarios/batch_status.sh           # BENCH_CASES=10000 by default
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build
bench_start
bench_machine
bench_seed "${BENCH_CASES:-10000}"
"$build_dir/tools/bench/pathway_bench" --scenario=batch_status --batch=100 \
  --addr="$addr_registry" --token_key_file="$key_file" --cases_file="$data_dir/cases.tsv" \
  --concurrency="${BENCH_CONCURRENCY:-1,8,32}" --duration_s="$duration_s" \
  --rounds="$rounds" --label="$(wc -l < "$data_dir/cases.tsv")"
