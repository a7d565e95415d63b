#!/usr/bin/env python3
"""Search as people type it, measured: the occupations' autocomplete and the
search of offers by words, without the response cache, beside the cheapest
answer the same gateway gives (`{ __typename }`) in the same run.

    python3 bench/search.py [--duration S] [--rounds N] [--connections N] [--binary B] [--out FILE]

The partner simulators run standalone (`passerelle sandbox`, the CMA feed at
100,000 offers); the gateway (target/release/passerelle unless --binary)
reads them with `api.response_cache_ttl = "0s"`, so every request is
searched. Each scenario's bodies are what a search box sends keystroke by
keystroke (`b`, `bo`, `bou`… and typos), taken in turn by wrk. The
scenarios run in rounds, each in turn, and each one's median round is
reported with the others.
"""

import argparse
import json
import pathlib
import shutil
import sys
import tempfile
import time
import tomllib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import gateways as g  # noqa: E402

# What people type, keystroke by keystroke, with the typos and plurals of a
# phone's keyboard.
TYPED = [
    "boulanger",
    "patissier",
    "coiffeuse",
    "mecanicien auto",
    "aide soignant",
    "cuisinier",
    "electricien",
    "plombier",
    "vendeuse",
    "esthéticienne",
    "menuisier",
    "maçon",
    "boulnager",
    "coifeur",
    "patisiere",
    "apprenti(e) boulanger",
    "CAP coiffure",
    "carrossier",
    "comptable",
    "developpeur",
]


def keystrokes(words):
    """Every prefix of every search, as a box sends them."""
    for w in words:
        for n in range(1, len(w) + 1):
            if not w[n - 1].isspace():
                yield w[:n]


OCCUPATIONS = "query($s: String!) { occupations(search: $s, first: 8) { rome { code label } matchedLabel matched } }"

# The offers' words filter, newest first.
OFFERS_TEXT = (
    "query($t: String!) { offers(first: 20, filter: { text: $t, departement: \"14\" }) "
    "{ totalCount nodes { id title employer { name } location { communeName } } } }"
)
OFFER_WORDS = ["boulanger", "coiffure", "mécanique", "pâtisserie", "vente", "cuisine", "maçonnerie", "comptabilité"]

# The occupation chosen, around a place, with two facets to refine by.
OFFERS_FACETS = (
    "query($r: [String!], $c: String!) { offers(first: 20, filter: { rome: $r, near: { commune: $c, radiusKm: 30 } }) "
    "{ totalCount facets { levels { value label count } sources { value label count } } "
    "nodes { id title employer { name } location { communeName } } } }"
)
# What a search box sends: words, a town, ranked, two facets.
OFFERS_RANKED = (
    "query($t: String!, $c: String!) { offers(first: 20, orderBy: RELEVANCE, "
    "filter: { text: $t, near: { commune: $c, radiusKm: 30 } }) "
    "{ totalCount facets { levels { value label count } sources { value label count } } "
    "nodes { id title employer { name } location { communeName } } } }"
)
RANKED_SEARCHES = [
    {"t": t, "c": commune}
    for t in ["boulangere", "cap coiffure", "mecanicien auto", "patissier", "vendeuse", "cuisinier", "macon", "electricien"]
    for commune in ["14118", "76540", "50129", "27229", "61001"]
]
FACET_SEARCHES = [
    {"r": [rome], "c": commune}
    for rome in ["D1102", "D1202", "I1604", "G1602", "F1703", "D1104"]
    for commune in ["14118", "76540", "50129", "27229", "61001"]
]


def bodies(query, name, values):
    return [json.dumps({"query": query, "variables": {name: v}}) for v in values]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3, help="rounds of every scenario in turn; each scenario's median round is reported")
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--binary", default=None)
    ap.add_argument("--out", default=str(g.ROOT / "bench" / "results" / "search.json"))
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk (bench/gateways.sh installs it)")
    binary = pathlib.Path(args.binary).resolve() if args.binary else g.PASSERELLE
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="passerelle-search-"))
    logs = tmp / "logs"
    logs.mkdir()
    procs = []
    results = {"machine": g.machine(), "connections": args.connections, "scenarios": {}}
    try:
        partners_toml = tmp / "partners.toml"
        procs.append(
            g.Process(
                "sandbox",
                [str(binary), "sandbox", "--base-port", str(g.SANDBOX_PORT), "--cma-offers", str(g.CMA_OFFERS), "--write-config", str(partners_toml)],
                log_dir=logs,
            )
        )
        g.wait_for(lambda: partners_toml.exists() and g.up(f"http://127.0.0.1:{g.SANDBOX_PORT + 6}/_faults"), "the sandbox")
        config = tomllib.loads(partners_toml.read_text())
        config.update(
            listen=f"127.0.0.1:{g.GATEWAY_PORT}",
            data_dir=str(tmp / "data"),
            limits={"max_page_size": 1000, "rate": {"anonymous_per_second": 10_000_000, "burst": 10_000_000}},
        )
        config.setdefault("api", {})["introspection"] = False
        config["api"]["response_cache_ttl"] = "0s"
        path = tmp / "passerelle.json"
        path.write_text(json.dumps(config))
        gateway = g.Process("gateway", [str(binary), "serve", "--config", str(path)], log_dir=logs)
        procs.append(gateway)
        url = f"http://127.0.0.1:{g.GATEWAY_PORT}/graphql"
        # Ready once the CMA's 100,000 offers are served.
        g.wait_for(
            lambda: json.loads(g.post(url, g.body('{ offers(first: 1, filter: { source: CMA }) { totalCount } }')))["data"]["offers"]["totalCount"] >= g.CMA_OFFERS // 2,
            "the CMA feed",
            timeout=600,
        )
        typed = list(keystrokes(TYPED))
        scenarios = {
            "floor: { __typename }": [g.body("{ __typename }")],
            f"occupations autocomplete ({len(typed)} keystrokes)": bodies(OCCUPATIONS, "s", typed),
            "offers by words, newest first (Calvados, 20 per page)": bodies(OFFERS_TEXT, "t", OFFER_WORDS),
            "offers by words ranked around a place, two facets": [
                json.dumps({"query": OFFERS_RANKED, "variables": v}) for v in RANKED_SEARCHES
            ],
            "offers of an occupation around a place, two facets": [
                json.dumps({"query": OFFERS_FACETS, "variables": v}) for v in FACET_SEARCHES
            ],
        }
        # The first search by words, as soon as the feed is served: it waits
        # for the feed's words index, built as the snapshot was installed.
        started = time.monotonic()
        g.post(url, scenarios["offers by words ranked around a place, two facets"][0])
        results["first_words_search_ms"] = round((time.monotonic() - started) * 1000)
        print(f"first search by words, as soon as the feed is served: {results['first_words_search_ms']} ms")
        # The index of the CMA's feed, as the gateway logged its build.
        for line in (logs / "gateway.log").read_text().splitlines():
            if "offers' words index built" in line:
                built = json.loads(line)
                if built.get("records", 0) >= g.CMA_OFFERS // 2:
                    results["words_index"] = {k: built[k] for k in ("records", "bytes", "ms")}
        print(f"the CMA feed's words index: {results.get('words_index')}")
        for name, scenario in scenarios.items():
            # One pass first, so that what is built once per snapshot is;
            # each search is new to the gateway then (nothing kept of it).
            started = time.monotonic()
            for b in scenario:
                g.post(url, b)
            cold = (time.monotonic() - started) * 1000 / len(scenario)
            results.setdefault("first_pass_ms_per_search", {})[name] = round(cold, 2)
            print(f"{name}: first pass {cold:.2f} ms per search")
        # Rounds of every scenario in turn, so that a sync or a neighbour's
        # load on the machine weighs on all of them alike.
        rounds = {name: [] for name in scenarios}
        for _ in range(args.rounds):
            for name, scenario in scenarios.items():
                rounds[name].append(g.wrk(url, scenario, args.duration, args.connections, gateway, tmp))
        for name, runs in rounds.items():
            runs.sort(key=lambda r: r["rps"])
            row = dict(runs[len(runs) // 2])
            row["rounds_rps"] = [round(r["rps"]) for r in runs]
            results["scenarios"][name] = row
            print(
                f"{name}: {row['rps']:,.0f} req/s (rounds {row['rounds_rps']}), p50 {row['p50_ms']:.2f} ms, p99 {row['p99_ms']:.2f} ms, "
                f"{row['cpu_ms_per_request']['self']:.3f} ms CPU/request, {row['peak_rss_mib']:.0f} MiB, errors {row['errors']}"
            )
        floor = results["scenarios"]["floor: { __typename }"]["rps"]
        for name, row in results["scenarios"].items():
            row["share_of_floor"] = round(row["rps"] / floor, 3)
        pathlib.Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
        print(f"written to {args.out}")
    finally:
        for p in reversed(procs):
            p.stop()


if __name__ == "__main__":
    main()
