#!/usr/bin/env bash
# Two builds of the gateway on one query, in alternating rounds: for a
# difference smaller than this machine's drift between two runs of
# bench/gateways.py. One sandbox (100,000 CMA offers, on ports 4100…) serves
# both; each round starts each build afresh on port 4000, warms it for 3 s,
# then measures 8 s with wrk, and prints req/s, p50 and the gateway's CPU
# per request. The order of the builds alternates between rounds.
#
#   bash bench/alternate.sh BEFORE AFTER 'QUERY' [CONNECTIONS] [ROUNDS] [cache|nocache|cold]
#
# `cold`: no response cache, and the live partners' answers kept 1 ms (a
# call to the partner for every request: the path of a search not yet seen).
#
# e.g. bash bench/alternate.sh /tmp/passerelle-before target/release/passerelle \
#        '{ offers(first: 20, filter: { source: CCI, departement: "14" }) { totalCount nodes { id title } } }' 32 6 nocache
set -euo pipefail
cd "$(dirname "$0")/.."
before=$1 after=$2 query=$3 connections=${4:-32} rounds=${5:-6} cache=${6:-cache}
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 2; }
tmp=$(mktemp -d /tmp/passerelle-alternate-XXXXXXXX)
cleanup() { pkill -f "$tmp" 2>/dev/null || true; }
trap cleanup EXIT

"$before" sandbox --base-port 4100 --cma-offers 100000 --write-config "$tmp/partners.toml" \
  >"$tmp/sandbox.log" 2>&1 &
for _ in $(seq 100); do [ -s "$tmp/partners.toml" ] && break; sleep 0.3; done
python3 - "$tmp" "$cache" <<'PY'
import json, sys, tomllib
tmp, cache = sys.argv[1], sys.argv[2]
c = tomllib.loads(open(f"{tmp}/partners.toml").read())
c.update(listen="127.0.0.1:4000", data_dir=f"{tmp}/data",
         limits={"max_page_size": 1000, "rate": {"anonymous_per_second": 10_000_000, "burst": 10_000_000}})
c.setdefault("api", {})["introspection"] = False
if cache in ("nocache", "cold"):
    c["api"]["response_cache_ttl"] = "0s"
if cache == "cold":
    for p in c["partners"]:
        if p["kind"] in ("cci", "passmonde", "cnfpt"):
            p["cache_ttl"] = "1ms"
open(f"{tmp}/gateway.json", "w").write(json.dumps(c))
PY
python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1]}))' "$query" >"$tmp/bodies.txt"

measure() { # BUILD NAME ROUND
  RUST_LOG=warn "$1" serve --config "$tmp/gateway.json" >"$tmp/gateway.log" 2>&1 &
  local pid=$!
  for _ in $(seq 240); do curl -sf localhost:4000/readyz >/dev/null && break; sleep 0.5; done
  BODIES="$tmp/bodies.txt" wrk -t1 -c"$connections" -d3s -s bench/wrk.lua http://127.0.0.1:4000/graphql >/dev/null
  local t0 t1
  t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  BODIES="$tmp/bodies.txt" wrk -t1 -c"$connections" -d8s -s bench/wrk.lua http://127.0.0.1:4000/graphql \
    | grep '^{' >"$tmp/r.json"
  t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  python3 - "$tmp/r.json" "$2" "$3" "$t0" "$t1" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1])); n = r["requests"]
tick = os.sysconf("SC_CLK_TCK")
cpu = (int(sys.argv[5]) - int(sys.argv[4])) * 1000 / tick / n
print(f"{sys.argv[2]:7} round {sys.argv[3]}  {n / (r['duration_us'] / 1e6):9.0f} req/s  "
      f"p50 {r['p50_us'] / 1000:7.2f} ms  CPU/req {cpu:.3f} ms")
PY
}

for round in $(seq "$rounds"); do
  if (( round % 2 )); then
    measure "$before" before "$round"; measure "$after" after "$round"
  else
    measure "$after" after "$round"; measure "$before" before "$round"
  fi
done
