#!/usr/bin/env bash
# Overload: community_detox RecordTest, durable writes WITHOUT an idempotency-key,
# at the saturating concurrency (64) and far beyond it, BENCH_DURATION_S (30) each,
# no floor, and a client that backs off after RESOURCE_EXHAUSTED (BENCH_BACKOFF_MS,
# 20 ms doubling to 1 s, jittered; 0 calls again at once). Reports goodput (OK calls/s) per level, how fast RESOURCE_EXHAUSTED
# refusals come back, the services' peak resident memory, and whether any write was
# committed for a caller that had given up: the rows added to sv_tests must equal
# the OK answers the client received (no key, so nothing may commit late).
#
#   tools/bench/scenarios/overload.sh    # BENCH_CONCURRENCY=64,256,2048,4096
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
duration_s="${BENCH_DURATION_S:-30}"
bench_build
bench_start
bench_machine
bench_seed "${BENCH_CASES:-10000}"
db="$data_dir/community_detox.db"
before=$(sqlite3 "$db" "PRAGMA busy_timeout=10000; SELECT COUNT(*) FROM sv_tests;" | tail -1)
out="$data_dir/overload.out"
: > "$out"
detox_pid="${service_pids[1]}"
header=true
# One level at a time, so the service's peak memory is known after each.
IFS=',' read -r -a levels <<< "${BENCH_CONCURRENCY:-64,256,2048,4096}"
for level in "${levels[@]}"; do
  "$build_dir/tools/bench/pathway_bench" --scenario=record_test --floor=false \
    --idempotency_key=false --deadline_ms="${BENCH_DEADLINE_MS:-2000}" \
    --backoff_ms="${BENCH_BACKOFF_MS:-20}" --header="$header" \
    --addr="$addr_community_detox" --token_key_file="$key_file" \
    --cases_file="$data_dir/cases.tsv" --concurrency="$level" \
    --duration_s="$duration_s" --rounds=1 --label="$(wc -l < "$data_dir/cases.tsv")" | tee -a "$out"
  header=false
  awk -v level="$level" '/VmHWM/{h=$2} /VmRSS/{r=$2}
    END{printf "#   community_detox after conc %s: VmHWM %.1f MB, VmRSS %.1f MB\n", level, h/1024, r/1024}' \
    "/proc/$detox_pid/status"
done
# The client has every answer by now; a write still committing would be late.
after=$(sqlite3 "$db" "PRAGMA busy_timeout=10000; SELECT COUNT(*) FROM sv_tests;" | tail -1)
ok=$(sed -n 's/^# record_test OK answers, warmup included: \([0-9]*\).*/\1/p' "$out" |
  awk '{s += $1} END {print s}')
echo "# rows committed during the run: $((after - before)); OK answers: $ok;" \
  "committed without an OK answer: $((after - before - ok))"
bench_memory
