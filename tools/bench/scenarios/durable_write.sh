#!/usr/bin/env bash
# Durable write: community_detox RecordTest (a negative urine test on an open SD
# order: fsync'd group commit, audit row, idempotency record, status published to
# Redis) at concurrency 1, 8, 32, 64, against the health-check floor of the same
# server. Each call has a fresh idempotency-key. Target: >= 0.4x the
# floor's calls/s at concurrency 64.
#
#   tools/bench/scenarios/durable_write.sh          # BENCH_CASES=10000 by default
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build
bench_start
bench_machine
bench_seed "${BENCH_CASES:-10000}"
"$build_dir/tools/bench/pathway_bench" --scenario=record_test \
  --addr="$addr_community_detox" --token_key_file="$key_file" \
  --cases_file="$data_dir/cases.tsv" --concurrency="${BENCH_CONCURRENCY:-1,8,32,64}" \
  --duration_s="$duration_s" --rounds="$rounds" --label="$(wc -l < "$data_dir/cases.tsv")"
