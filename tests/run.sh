#!/usr/bin/env bash
# Runs Passerelle's whole test suite on a fresh machine: installs what the
# tests need (Node packages for the GraphQL-over-HTTP audit and for
# composing and serving a supergraph, rotel as the
# traces tests' OpenTelemetry collector, PyPI icalendar and
# recurring-ical-events as the calendars' reference implementation,
# PostgreSQL for the store tests,
# started as a throwaway cluster; Chromium and its driver for the console's
# browser tests, with axe-core; the console's build, checked against the
# committed one; mdBook, and the book's build checked the same way),
# checks the formatting and lints, then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

# The suite builds every crate and test binary once: incremental state and
# full debug information would only fill the disk (tens of GB over the
# test binaries), and a full disk fails the store tests in ways far from
# their cause. Backtraces keep their line numbers.
export CARGO_INCREMENTAL=0
export CARGO_PROFILE_DEV_DEBUG=line-tables-only
echo "== disk: $(df -h --output=avail . | tail -1 | tr -d ' ') free"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "== installing Node.js (for the graphql-http audit)"
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
echo "== installing the audit's Node packages"
(cd tests/audit && npm ci --no-audit --no-fund --loglevel=error)
echo "== installing the clients tests' Node packages (graphql-js, graphql-ws, graphql-sse, relay-compiler, Apollo Client, graphql-codegen, standardwebhooks, oidc-provider)"
(cd tests/clients && npm ci --no-audit --no-fund --loglevel=error)
echo "== installing the federation tools (@apollo/composition, Hive Gateway)"
(cd tests/federation && npm ci --no-audit --no-fund --loglevel=error)
echo "== installing axe-core (the console's accessibility check)"
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "== installing Chromium and its driver (the console's browser tests)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
# The console's browser tests must run, not skip.
export PASSERELLE_REQUIRE_BROWSER=1
echo "== building the console: the committed build must be the build of its sources"
(cd gateway/console && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build >/dev/null)
git diff --exit-code --stat -- gateway/console/dist
if [ -n "$(git status --porcelain -- gateway/console/dist)" ]; then
  git status --porcelain -- gateway/console/dist
  echo "gateway/console/dist differs from a build of gateway/console: run npm run build there and commit it" >&2
  exit 1
fi

# The book (docs/, an mdBook) is served by the gateway from its committed
# build: that build must be the build of its sources. Its links and
# examples are checked by the e2e tests (book.rs, readme.rs).
MDBOOK_VERSION=0.5.4
if [ "$(mdbook --version 2>/dev/null)" != "mdbook v$MDBOOK_VERSION" ]; then
  echo "== installing mdBook $MDBOOK_VERSION (the book's build)"
  cargo install mdbook --locked --version "$MDBOOK_VERSION" --no-default-features --features search
fi
echo "== building the book: the committed build must be the build of docs/src"
mdbook build docs
git diff --exit-code --stat -- docs/book
if [ -n "$(git status --porcelain -- docs/book)" ]; then
  git status --porcelain -- docs/book
  echo "docs/book differs from a build of docs/src: run mdbook build docs and commit it" >&2
  exit 1
fi

if ! python3 -c 'import rotel' >/dev/null 2>&1; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "== installing pip (for rotel)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
  fi
  echo "== installing rotel (the OTLP collector of the traces tests)"
  # Debian's Python refuses packages outside a virtual environment unless told.
  PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q --disable-pip-version-check rotel
fi

if ! python3 -c 'import icalendar, recurring_ical_events' >/dev/null 2>&1; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
  fi
  echo "== installing icalendar and recurring-ical-events (the calendars' reference implementation)"
  PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q --disable-pip-version-check \
    "icalendar==6.3.1" "recurring-ical-events==3.8.0"
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The connectors without their simulators: production code alone.
cargo clippy -p passerelle-connectors --locked --no-default-features -- -D warnings
echo "== cargo test (disk: $(df -h --output=avail . | tail -1 | tr -d " ") free)"
source tests/postgres.sh
postgres_start
# The store and ingestion tests must run on PostgreSQL too, not skip it;
# and the traces tests on rotel.
export PASSERELLE_REQUIRE_POSTGRES=1
cargo test --workspace --locked
