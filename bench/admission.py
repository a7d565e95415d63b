#!/usr/bin/env python3
"""What admission costs: two release binaries side by side, on their embedded
defaults (every simulator in-process, SQLite), each serving on a port of its
own, and wrk posting the same documents to one then the other, in alternate
rounds so that the machine's noise falls on both.

    python3 bench/admission.py BEFORE_BINARY AFTER_BINARY [--duration 6] [--rounds 3]

Documents: the portal's warm search (scenario 1 of bench/gateways.py), the
page of 50 CFAs (scenario 4), and a document written with fragments as
Relay and Apollo clients write them (a fragment per type, spread where
used), which admission counts with each fragment once. The response cache
is off, so that every request is admitted and executed. Prints requests per
second and p99 per document and binary, the ratio after/before of the
medians, and the resident memory of each binary after the rounds.
"""

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from gateways import CFA_PAGE, WARM, Process, body, wrk  # noqa: E402

FRAGMENTS = (
    "query Portal { offers(first: 20, filter: { departement: \"14\" }) "
    "{ totalCount nodes { ...OfferCard } pageInfo { ...Page } } "
    "cfas(first: 5) { nodes { ...CfaCard } } } "
    "fragment Page on PageInfo { hasNextPage endCursor } "
    "fragment Place on Location { communeName } "
    "fragment OfferCard on Offer { id title employer { name } location { ...Place } "
    "sources { partner } } "
    "fragment CfaCard on Cfa { uai name location { ...Place } "
    "offers(first: 3) { nodes { ...OfferCard } } }"
)

DOCUMENTS = [
    ("1. warm search", WARM),
    ("4. 50 CFAs", CFA_PAGE),
    ("fragments, as clients write them", FRAGMENTS),
]


def ready(port, timeout=180):
    until = time.time() + timeout
    while time.time() < until:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the gateway on {port} was not ready within {timeout} s")


def check(port, query):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=body(query).encode(), method="POST"
    )
    req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        answer = json.loads(r.read())
    if "errors" in answer:
        raise SystemExit(f"the gateway on {port} answered errors: {answer['errors']}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--duration", type=int, default=6)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "results" / "admission.json"))
    args = ap.parse_args()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="passerelle-admission-"))
    (tmp / "logs").mkdir()
    gateways = {}
    for i, (name, binary) in enumerate([("before", args.before), ("after", args.after)]):
        port = 4500 + i
        data = tmp / name
        data.mkdir()
        config = data / "passerelle.toml"
        config.write_text(
            f'data_dir = "{data}"\n[api]\nresponse_cache_ttl = "0s"\n'
            "[limits.rate]\nanonymous_per_second = 1000000\nburst = 1000000\n"
        )
        process = Process(
            name,
            [binary, "serve", "--config", str(config), "--listen", f"127.0.0.1:{port}"],
            log_dir=tmp / "logs",
        )
        gateways[name] = (port, process)
    try:
        for name, (port, _) in gateways.items():
            ready(port)
            for _, query in DOCUMENTS:
                check(port, query)
        results = {d: {"before": [], "after": []} for d, _ in DOCUMENTS}
        for _ in range(args.rounds):
            for label, query in DOCUMENTS:
                for name, (port, process) in gateways.items():
                    r = wrk(
                        f"http://127.0.0.1:{port}/graphql",
                        [body(query)],
                        args.duration,
                        args.connections,
                        process,
                        tmp,
                    )
                    if r["errors"]:
                        raise SystemExit(f"{name}: {r['errors']} errors on {label}")
                    results[label][name].append(r)
        report = {}
        for label, runs in results.items():
            row = {}
            for name in ("before", "after"):
                rps = statistics.median(r["rps"] for r in runs[name])
                p99 = statistics.median(r["p99_ms"] for r in runs[name])
                row[name] = {"rps": rps, "p99_ms": p99, "runs": [r["rps"] for r in runs[name]]}
            row["ratio"] = row["after"]["rps"] / row["before"]["rps"]
            report[label] = row
            print(
                f"{label}: before {row['before']['rps']:,.0f} req/s (p99 {row['before']['p99_ms']:.1f} ms), "
                f"after {row['after']['rps']:,.0f} req/s (p99 {row['after']['p99_ms']:.1f} ms), "
                f"after/before {row['ratio']:.2f}"
            )
        for name, (_, process) in gateways.items():
            rss = process.rss_kib() / 1024
            report.setdefault("rss_mib", {})[name] = rss
            print(f"{name}: {rss:.0f} MiB resident after the rounds")
        pathlib.Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    finally:
        for _, (_, process) in gateways.items():
            process.stop()


if __name__ == "__main__":
    main()
