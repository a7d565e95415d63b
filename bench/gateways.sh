#!/usr/bin/env bash
# Passerelle against Hive Gateway over GraphQL Mesh and against a bare axum
# server, side by side in one run: installs wrk and the peer's npm packages
# when missing, builds the release binaries, then runs bench/gateways.py.
#
#   bash bench/gateways.sh [--duration S] [--connections N] [--rounds R] [--out FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  echo "== installing wrk" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
if ! command -v node >/dev/null; then
  echo "node is needed for the peer (Hive Gateway); install Node.js 20 or later" >&2
  exit 2
fi
echo "== installing the peer (Hive Gateway, GraphQL Mesh) from bench/peer/package-lock.json" >&2
(cd bench/peer && npm ci --no-audit --no-fund --loglevel=error)
echo "== building the release binaries" >&2
cargo build --release --locked -p passerelle --bin passerelle --example bare
exec python3 bench/gateways.py "$@"
