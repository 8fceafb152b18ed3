#!/usr/bin/env bash
# Worklist: registry GetWorklist of a township caseworker (each call another township
# of the seeded counties; 20 townships a county) and of a county caseworker, at
# concurrency 1, 8, 32, 64, against the health-check floor of the same server.
#
#   BENCH_CASES=100000 tools/bench/scenarios/worklist.sh
# Builds if needed, starts its own Pathway on loopback, seeds, measures, stops.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build
bench_start
bench_machine
bench_seed "${BENCH_CASES:-100000}"
# The programme services feed the registry's index just after each commit: give the
# seed's last writes a moment to land (the latency measured does not depend on it).
sleep 5
for level in township county; do
  "$build_dir/tools/bench/pathway_bench" --scenario=worklist --worklist_level="$level" \
    --addr="$addr_registry" --token_key_file="$key_file" --cases_file="$data_dir/cases.tsv" \
    --concurrency="${BENCH_CONCURRENCY:-1,8,32,64}" --duration_s="$duration_s" \
    --rounds="$rounds" --label="$(wc -l < "$data_dir/cases.tsv") $level" \
    --header="$([ "$level" = township ] && echo true || echo false)"
done
