#!/usr/bin/env bash
# The offer search while the CCI is slow: the embedded sandbox's CCI takes
# LATENCY ms for every call (an unfiltered search needs six pages of 500),
# and CONNECTIONS connections search every offer, no filter, for DURATION
# seconds, with wrk. Run once with the default latency budget (1.5 s) and
# once with a budget of 10 s, the operation's deadline, which waits for
# the partner as the gateway did before it had a budget. Prints, for each,
# wrk's figures and what the answers said during and after the run.
#
#   bash bench/slow-partner.sh [--latency-ms 3000] [--connections 32] [--duration 30]
#
# PASSERELLE=path runs that binary instead, without building.
set -euo pipefail
cd "$(dirname "$0")/.."
latency=3000
connections=32
duration=30
while [[ $# -gt 0 ]]; do
  case "$1" in
    --latency-ms) latency=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if ! command -v wrk >/dev/null; then
  echo "== installing wrk" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
bin=${PASSERELLE:-target/release/passerelle}
if [[ -z "${PASSERELLE:-}" ]]; then
  cargo build --release --locked -p passerelle --bin passerelle >&2
fi
tmp=$(mktemp -d /tmp/passerelle-slow-partner.XXXXXX)
pid=
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

port=4610
base=http://127.0.0.1:$port
search='{"query":"{ offers(first: 20) { totalCount nodes { id title sources { partner } } } }"}'
echo "$search" >"$tmp/bodies"

# What an answer says: its offers' exchanges and its errors' codes.
say() {
  python3 -c '
import json, sys
b = json.load(sys.stdin)
if not (b.get("data") or {}).get("offers"):
    sys.exit("    unexpected answer: %s" % json.dumps(b)[:300])
o = b["data"]["offers"]
parts = sorted({s["partner"] for n in o["nodes"] for s in n["sources"]})
errs = ["%s %s" % (e["extensions"].get("code"), e["extensions"].get("partner")) for e in b.get("errors", [])]
print("    totalCount %d, exchanges %s, errors %s" % (o["totalCount"], ",".join(parts), errs or "none"))
'
}

# A probe beside wrk: one search at a time, every 50 ms, timed on its own
# (wrk's figures include its own queueing on a machine it saturates), and
# when the CCI's offers first appear.
cat >"$tmp/probe.py" <<'EOF'
import json, sys, time, urllib.request
base, duration, keep = sys.argv[1], float(sys.argv[2]), sys.argv[3]
body = open(sys.argv[0].replace("probe.py", "bodies"), "rb").read().strip()
start, times, filled, kept = time.time(), [], None, False
while time.time() - start < duration:
    t = time.time()
    answer = json.load(urllib.request.urlopen(urllib.request.Request(
        base + "/graphql", body, {"content-type": "application/json"})))
    times.append((time.time() - t) * 1000)
    if not kept and t - start >= 5:
        json.dump(answer, open(keep, "w"))
        kept = True
    if filled is None and "errors" not in answer:
        filled = t - start
    time.sleep(0.05)
times.sort()
print("    probe: %d searches; p50 %.1f ms, p99 %.1f ms, max %.1f ms; the CCI's offers answered from %s"
      % (len(times), times[len(times) // 2], times[int(len(times) * 0.99)], times[-1],
         "%.1f s" % filled if filled is not None else "never, within the run"))
EOF

run() {
  local name=$1 budget=$2
  rm -rf "$tmp/data"
  # One load generator, one address: no rate limit.
  PASSERELLE_SANDBOX__RESILIENCE__LATENCY_BUDGET=$budget RUST_LOG=warn \
    PASSERELLE_LIMITS__RATE__ANONYMOUS_PER_SECOND=10000000 PASSERELLE_LIMITS__RATE__BURST=10000000 \
    "$bin" serve --listen 127.0.0.1:$port --data-dir "$tmp/data" >"$tmp/$name.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 240); do
    curl -sf "$base/readyz" >/dev/null && break
    sleep 0.5
  done
  # The CCI's token first, by a search of one département: the scenario
  # is the slow search, not the slow token.
  curl -sf "$base/graphql" -H 'content-type: application/json' \
    -d '{"query":"{ offers(first: 1, filter: { departement: \"14\" }) { totalCount } }"}' >/dev/null
  curl -sf -X POST "$base/_sandbox/cci/faults" -H 'content-type: application/json' \
    -d "{\"latency_ms\": $latency}" >/dev/null
  python3 "$tmp/probe.py" "$base" "$duration" "$tmp/during.json" >"$tmp/$name.probe" &
  local probe=$!
  BODIES="$tmp/bodies" wrk -t2 -c"$connections" -d"${duration}s" --timeout 20s --latency \
    -s bench/wrk.lua "$base/graphql" >"$tmp/$name.wrk"
  wait "$probe" || true
  local summary
  summary=$(grep '^{"requests"' "$tmp/$name.wrk")
  echo "== $name: latency budget $budget, CCI at $latency ms a call, $connections connections, ${duration} s"
  python3 -c '
import json, sys
s = json.loads(sys.argv[1])
rate = s["requests"] / (s["duration_us"] / 1e6)
e = s["errors"]
print("    %d requests (%.0f/s); p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms; errors %s"
      % (s["requests"], rate, s["p50_us"] / 1e3, s["p90_us"] / 1e3, s["p99_us"] / 1e3, s["max_us"] / 1e3,
         {k: v for k, v in e.items() if v} or "none"))
' "$summary"
  cat "$tmp/$name.probe"
  echo "  an answer 5 s into the run:"
  say <"$tmp/during.json"
  echo "  an answer after the run:"
  curl -s "$base/graphql" -H 'content-type: application/json' -d "$search" | say
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
}

run budget 1500ms
run deadline 10s
