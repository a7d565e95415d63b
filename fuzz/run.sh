#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) each, from the committed
# seeds (and, for the calendar and LHÉO targets, the real files of
# tests/corpus), and prints executions and outcome per target. Installs cargo-fuzz
# and uses the nightly toolchain. A crash leaves its input under
# fuzz/artifacts/TARGET/; turn it into a regression test before fixing.
#
#   bash fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH="${1:-60}"
shift || true
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  mapfile -t TARGETS < <(cargo +nightly fuzz list)
fi
cargo +nightly fuzz build -O
status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t"
  cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
  # The real payloads of the differential tests seed their parser's target.
  case "$t" in
    spro_ical) cp -n ../tests/corpus/calendars/*.ics "corpus/$t/" ;;
    lheo_xml) cp -n ../tests/corpus/lheo/*.xml "corpus/$t/" ;;
  esac
  log="$(mktemp)"
  if cargo +nightly fuzz run -O "$t" "corpus/$t" -- -max_total_time="$SECONDS_EACH" -rss_limit_mb=1024 -timeout=10 >"$log" 2>&1; then
    outcome=ok
  else
    outcome=CRASH
    status=1
    tail -30 "$log"
  fi
  stats="$(grep -E '^#[0-9]+\s+DONE' "$log" | tail -1 || true)"
  execs="$(echo "$stats" | sed -E 's/^#([0-9]+).*/\1/')"
  cov="$(echo "$stats" | sed -E 's/.*cov: ([0-9]+).*/\1/')"
  echo "$t: $outcome, ${execs:-?} executions in ${SECONDS_EACH} s, coverage ${cov:-?}, corpus $(ls "corpus/$t" | wc -l)"
  rm -f "$log"
done
exit $status
