#!/usr/bin/env bash
# The campaign benchmark: ingestion through the bulk endpoint and the
# mutation, taxCampaign latency and the server's peak memory, on SQLite and
# on PostgreSQL, with a simulated campaign.
#
#   bash bench/campaign.sh [ALLOCATIONS]      (default 1,000,000)
#
# Builds the release binary, writes the campaign files, starts a throwaway
# PostgreSQL (installed from Debian's packages when missing), runs
# bench/campaign.py against a fresh gateway per store, prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
cargo build --release --locked -p passerelle
BIN="$PWD/target/release/passerelle"
WORK="$(mktemp -d /tmp/passerelle-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

echo "== writing the campaign: $N allocations, $((N / 10)) employers"
"$BIN" sandbox-campaign --out "$WORK/large" --allocations "$N" --employers "$((N / 10))" --year 2026
"$BIN" sandbox-campaign --out "$WORK/small" --allocations "$((N / 10))" --employers "$((N / 100))" --year 2024
"$BIN" sandbox-campaign --out "$WORK/api" --allocations 100000 --employers 10000 --year 2025 \
  --format jsonl --batch 1000
# One upload holds the whole campaign (every OPCO's records, pushed as one).
for size in large small; do
  first=1
  for f in "$WORK/$size"/*.csv; do
    if [ $first = 1 ]; then cat "$f"; first=0; else tail -n +2 "$f"; fi
  done > "$WORK/$size.csv"
done

source tests/postgres.sh
postgres_start
unset PASSERELLE_REQUIRE_POSTGRES

python3 bench/campaign.py --bin "$BIN" --work "$WORK" \
  --store "sqlite=sqlite://$WORK/sqlite/passerelle.db?mode=rwc" \
  --store "postgres=$(python3 - <<PY
import subprocess, os
url = os.environ["PASSERELLE_TEST_POSTGRES_URL"]
subprocess.run(["psql", url, "-qc", "CREATE DATABASE passerelle_bench"], check=True)
print(url.rsplit("/", 1)[0] + "/passerelle_bench")
PY
)"
