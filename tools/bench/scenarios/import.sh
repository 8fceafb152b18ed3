#!/usr/bin/env bash
# Labor bureau import: placement ImportPostings of BENCH_ROWS (default 1,000,000)
# postings generated on the fly and streamed in 1,000-row chunks over one stream.
# Target: >= 50,000 rows/s. Also prints the placement service's peak
# memory after the import.
#
#   tools/bench/scenarios/import.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build
bench_start
bench_machine
"$build_dir/tools/bench/pathway_bench" --scenario=import --addr="$addr_placement" \
  --token_key_file="$key_file" --rows="${BENCH_ROWS:-1000000}" --chunk_rows=1000 \
  --label=fresh
# The same rows again would all be "unchanged"; new record ids are new rows.
bench_memory
