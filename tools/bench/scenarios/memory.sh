#!/usr/bin/env bash
# Peak memory (VmHWM from /proc/<pid>/status) of each service at BENCH_CASES cases
# (default 1,000,000), after seeding and a round of every workload (status reads,
# batch reads, durable writes, a reconcile after FLUSHALL, an import of 100,000
# postings). Target: each service under 150 MB resident.
#
#   BENCH_DATA_DIR=/var/tmp/pathway-1m tools/bench/scenarios/memory.sh
# (Seeding a million cases through the RPCs takes a while: keep the data dir and
# reuse it for reconcile.sh with the same BENCH_DATA_DIR.)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build reconcile
bench_start
bench_machine
bench_seed "${BENCH_CASES:-1000000}"
echo "# after seeding"
bench_memory | sed 's/^/#   /'
bench="$build_dir/tools/bench/pathway_bench"
common=(--token_key_file="$key_file" --cases_file="$data_dir/cases.tsv" --duration_s=5
  --rounds=1 --concurrency=64 --header=false)
"$bench" --scenario=status --addr="$addr_registry" "${common[@]}" | sed 's/^/#   /'
"$bench" --scenario=batch_status --addr="$addr_registry" "${common[@]}" | sed 's/^/#   /'
"$bench" --scenario=record_test --addr="$addr_community_detox" "${common[@]}" | sed 's/^/#   /'
redis-cli -p "$redis_port" FLUSHALL >/dev/null
"$build_dir/tools/reconcile/reconcile" --token_key_file="$key_file" \
  --redis_port="$redis_port" --detox_addr="$addr_community_detox" \
  --isolation_addr="$addr_compulsory_isolation" --rehab_addr="$addr_community_rehab" \
  --placement_addr="$addr_placement" --progress=none --log_level=warning 2>/dev/null \
  | head -1 | sed 's/^/#   /' || true
"$bench" --scenario=import --addr="$addr_placement" --token_key_file="$key_file" \
  --rows=100000 | sed 's/^/#   /'
echo "# peak (VmHWM) and current (VmRSS) resident memory at $(wc -l < "$data_dir/cases.tsv") cases; target < 150 MB each"
bench_memory
