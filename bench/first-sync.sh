#!/usr/bin/env bash
# The gateway's memory over its first sync of the CMA feed at 100,000
# offers: builds the release binary, starts the partner simulators apart
# (`passerelle sandbox`, as bench/gateways.py does, so that their memory is
# not counted), then `passerelle serve` on a fresh data directory as
# shipped (the detection of new offers on), waits until it is ready (the
# first sync done), and follows its memory for a minute more: the first
# detection of new offers, and the syncs and requests of a first minute,
# come after `/readyz`. Prints its resident memory when ready (VmRSS), its
# peak over the whole first minute (VmHWM) and its RSS a minute after
# ready; then the same for a restart on the store the last run left, and
# the difference between the two a minute after ready.
#
# SETTLE=seconds changes the minute.
#
#   bash bench/first-sync.sh [OFFERS] [RUNS]
#
# PASSERELLE=path runs that binary instead, without building (a build of
# an earlier commit, to compare).
set -euo pipefail
cd "$(dirname "$0")/.."
offers=${1:-100000}
runs=${2:-1}
settle=${SETTLE:-60}
bin=${PASSERELLE:-target/release/passerelle}
if [[ -z "${PASSERELLE:-}" ]]; then
  cargo build --release --locked -p passerelle --bin passerelle >&2
fi
tmp=$(mktemp -d /tmp/passerelle-first-sync.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

"$bin" sandbox --base-port 4700 --cma-offers "$offers" --write-config "$tmp/partners.toml" \
  >"$tmp/sandbox.log" 2>&1 &
pids+=($!)
# The CMA's simulator (the next port) answers once the sandbox is up.
until [[ -s "$tmp/partners.toml" ]] && curl -so /dev/null -m 1 http://127.0.0.1:4701/; do
  sleep 0.1
done

# Starts the gateway on data directory $1, waits until it is ready, and
# prints what it took and its memory.
measure() {
  local data=$1 what=$2 cfg="$1.toml"
  { printf 'listen = "127.0.0.1:4710"\ndata_dir = "%s"\n' "$data"; cat "$tmp/partners.toml"; } >"$cfg"
  local start; start=$(date +%s.%N)
  RUST_LOG=warn "$bin" serve --config "$cfg" >>"$data.log" 2>&1 &
  local gw=$!
  pids+=($gw)
  until curl -fso /dev/null -m 1 http://127.0.0.1:4710/readyz; do
    kill -0 "$gw" 2>/dev/null || { cat "$data.log" >&2; exit 1; }
    sleep 0.05
  done
  local ready; ready=$(date +%s.%N)
  local at_ready hwm rss
  at_ready=$(awk '/^VmRSS:/ {print $2}' "/proc/$gw/status")
  # A client's search every few seconds, as a portal's traffic would.
  for _ in $(seq $((settle / 5))); do
    sleep 5
    curl -fso /dev/null -m 10 -H 'content-type: application/json' \
      -d '{"query":"{ offers(first: 20) { totalCount nodes { id title } } }"}' \
      http://127.0.0.1:4710/graphql || true
  done
  sleep $((settle % 5))
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$gw/status")
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$gw/status")
  printf '%s: ready in %.1f s; RSS when ready %d MiB; peak over the first %d s (VmHWM) %d MiB; RSS %d s after ready %d MiB\n' \
    "$what" "$(echo "$ready - $start" | bc)" $((at_ready / 1024)) "$settle" $((hwm / 1024)) \
    "$settle" $((rss / 1024))
  echo "$rss" >"$data.rss"
  kill "$gw"
  wait "$gw" 2>/dev/null || true
}

for run in $(seq "$runs"); do
  measure "$tmp/data-$run" "first sync of $offers CMA offers, run $run"
done
first=$(cat "$tmp/data-$runs.rss")
# Restarted on what the last run stored: loaded from the store, then a
# conditional pull answered "not modified".
measure "$tmp/data-$runs" "restart on the stored feed"
restarted=$(cat "$tmp/data-$runs.rss")
printf 'RSS %d s after ready: first run %d MiB, restart %d MiB, difference %d MiB (target: within 10)\n' \
  "$settle" $((first / 1024)) $((restarted / 1024)) $(((first - restarted) / 1024))
