#!/usr/bin/env bash
# Runs Passerelle's whole test suite on a fresh machine: installs what the
# tests need (Node packages for the GraphQL-over-HTTP audit, PostgreSQL for
# the store tests, started as a throwaway cluster), checks the formatting
# and lints, then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "== installing Node.js (for the graphql-http audit)"
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
echo "== installing the audit's Node packages"
(cd tests/audit && npm ci --no-audit --no-fund --loglevel=error)

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
source tests/postgres.sh
postgres_start
# The store and ingestion tests must run on PostgreSQL too, not skip it.
export PASSERELLE_REQUIRE_POSTGRES=1
cargo test --workspace --locked
