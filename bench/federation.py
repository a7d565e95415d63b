#!/usr/bin/env python3
"""Passerelle's entity fetch, direct and through a supergraph, side by side.

Runs the release binary in its embedded defaults (every simulator
in-process, SQLite, the response cache off so that every request runs; the
sandbox with CFAS CFAs when that is more than its 71), the
grants subgraph of the federation tests (tests/src/grants.rs, granting to
the first CFAS CFAs), and Hive Gateway over the two composed with
@apollo/composition (tests/federation), then measures with wrk, in ROUNDS
alternating rounds, the medians of:

1. `cfas(first: CFAS)` asking every joined field of a CFA, at Passerelle;
2. `_entities` with CFAS `Cfa` representations asking the same fields, at
   Passerelle: what a router sends. The target is that it costs at most
   1.2 times (1);
3. `grantedCfas(first: CFAS) { grants … }` at the grants subgraph alone;
4. `grantedCfas(first: CFAS)` with the grants and Passerelle's same fields
   through Hive Gateway, on its default runtime and on the Hive Router
   runtime: the router's own overhead is its latency less (2) and (3).

    python3 bench/federation.py [--cfas 100] [--seconds 10] [--rounds 3]
        [--connections 4] [--out bench/results/federation.json]

Installs what it needs when it is missing: wrk (Debian's package), the
federation tools (`npm ci` in tests/federation) and the release builds.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FEDERATION = ROOT / "tests" / "federation"
BINARY = ROOT / "target" / "release" / "passerelle"
GRANTS = ROOT / "target" / "release" / "examples" / "grants"

# Every field of a CFA that joins a partner, and its own.
CFA_FIELDS = (
    "uai name siret location { communeCode communeName postcode } "
    "departement { code name } vacancies "
    "formations(first: 50) { totalCount nodes { id title level vacancies } } "
    "offers(first: 10) { totalCount nodes { id title employer { name } } } "
    "events(first: 5) { totalCount nodes { title start } } "
    "nextOpenDay { title start } "
    "mobility { total { mobilities } byProgram { program figures { mobilities } } }"
)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def post(url, payload, timeout=30):
    req = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def wait_for(url, what, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} was not ready within {timeout} s")


def ensure_tools():
    if not shutil.which("wrk"):
        print("== installing wrk", file=sys.stderr)
        subprocess.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
                       "apt-get install -y -qq wrk >/dev/null", shell=True, check=True)
    if not (FEDERATION / "node_modules" / "@graphql-hive" / "gateway").exists():
        print("== installing the federation tools (tests/federation)", file=sys.stderr)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=FEDERATION, check=True)
    print("== building the release binaries", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "passerelle",
                    "--bin", "passerelle"], cwd=ROOT, check=True)
    subprocess.run(["cargo", "build", "--release", "--locked", "-p", "passerelle-tests",
                    "--example", "grants"], cwd=ROOT, check=True)


def wrk(url, payload, seconds, connections, tmp):
    bodies = tmp / "bodies.txt"
    bodies.write_text(json.dumps(payload) + "\n")
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s",
         str(ROOT / "bench" / "wrk.lua"), url],
        env={**os.environ, "BODIES": str(bodies)}, capture_output=True, text=True, check=True)
    r = json.loads([l for l in out.stdout.splitlines() if l.startswith("{")][-1])
    return {"rps": r["requests"] / (r["duration_us"] / 1e6), "p50_ms": r["p50_us"] / 1000,
            "p99_ms": r["p99_us"] / 1000, "errors": sum(r["errors"].values()),
            "requests": r["requests"]}


def check(url, payload, what):
    answer = post(url, payload)
    if answer.get("errors"):
        raise SystemExit(f"{what} answered errors: {json.dumps(answer['errors'])[:500]}")
    return answer["data"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cfas", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "federation.json"))
    args = ap.parse_args()
    ensure_tools()
    tmp = Path(tempfile.mkdtemp(prefix="passerelle-federation-"))
    procs = []
    try:
        port = free_port()
        config = tmp / "passerelle.toml"
        config.write_text(f"""
listen = "127.0.0.1:{port}"
data_dir = "{tmp}"
[sandbox]
base_port = 0
[sandbox.data]
cfas = {max(args.cfas, 71)}
[api]
response_cache_ttl = "0s"
[limits.rate]
anonymous_per_second = 1000000
burst = 1000000
""")
        procs.append(subprocess.Popen([str(BINARY), "serve", "--config", str(config)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        passerelle = f"http://127.0.0.1:{port}/graphql"
        wait_for(f"http://127.0.0.1:{port}/readyz", "Passerelle")

        uais = [n["uai"] for n in check(
            passerelle, {"query": f"{{ cfas(first: {args.cfas}) {{ nodes {{ uai }} }} }}"},
            "cfas")["cfas"]["nodes"]]
        if len(uais) < args.cfas:
            raise SystemExit(f"the sandbox has {len(uais)} CFAs, fewer than {args.cfas}")
        (tmp / "uais.txt").write_text("\n".join(uais) + "\n")
        (tmp / "sirets.txt").write_text("")
        gport = free_port()
        procs.append(subprocess.Popen([str(GRANTS), f"127.0.0.1:{gport}",
                                       str(tmp / "uais.txt"), str(tmp / "sirets.txt")]))
        grants = f"http://127.0.0.1:{gport}/graphql"
        deadline = time.time() + 30
        while True:
            try:
                post(grants, {"query": "{ __typename }"})
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("the grants subgraph did not start")
                time.sleep(0.2)

        # The supergraph.
        (tmp / "passerelle.graphql").write_text(
            check(passerelle, {"query": "{ _service { sdl } }"}, "_service")["_service"]["sdl"])
        (tmp / "grants.graphql").write_text(
            subprocess.run([str(GRANTS), "--sdl"], capture_output=True, text=True,
                           check=True).stdout)
        supergraph = tmp / "supergraph.graphql"
        composed = subprocess.run(
            ["node", "compose.mjs", str(supergraph),
             f"passerelle={passerelle}={tmp / 'passerelle.graphql'}",
             f"grants={grants}={tmp / 'grants.graphql'}"],
            cwd=FEDERATION, capture_output=True, text=True)
        report = json.loads(composed.stdout)
        if composed.returncode != 0:
            raise SystemExit(f"composition failed: {report['errors']}")
        routers = {}
        for runtime, flags in [("hive_default", []), ("hive_router", ["--hive-router-runtime"])]:
            rport = free_port()
            procs.append(subprocess.Popen(
                ["node", "node_modules/.bin/hive-gateway", "supergraph", str(supergraph),
                 "--host", "127.0.0.1", "--port", str(rport), *flags],
                cwd=FEDERATION, env={**os.environ, "LOG_LEVEL": "error"},
                stdout=subprocess.DEVNULL))
            wait_for(f"http://127.0.0.1:{rport}/readiness", f"Hive Gateway ({runtime})")
            routers[runtime] = f"http://127.0.0.1:{rport}/graphql"

        n = args.cfas
        scenarios = {
            "cfas_direct": (passerelle, {
                "query": f"{{ cfas(first: {n}) {{ nodes {{ {CFA_FIELDS} }} }} }}"}),
            "entities_direct": (passerelle, {
                "query": "query($r: [_Any!]!) { _entities(representations: $r) "
                         f"{{ ... on Cfa {{ {CFA_FIELDS} }} }} }}",
                "variables": {"r": [{"__typename": "Cfa", "uai": u} for u in uais]}}),
            "grants_alone": (grants, {
                "query": f"{{ grantedCfas(first: {n}) {{ uai grants {{ year amountEuros }} }} }}"}),
        }
        through = {"query": f"{{ grantedCfas(first: {n}) {{ grants {{ year amountEuros }} "
                            f"{CFA_FIELDS} }} }}"}
        for runtime, url in routers.items():
            scenarios[f"through_{runtime}"] = (url, through)

        # The same data each way: the CFAs' fields, direct and joined.
        direct = check(*scenarios["cfas_direct"], "cfas")["cfas"]["nodes"]
        entities = check(*scenarios["entities_direct"], "_entities")["_entities"]
        if direct != entities:
            raise SystemExit("_entities does not answer what cfas answers")
        for runtime in routers:
            joined = check(*scenarios[f"through_{runtime}"], runtime)["grantedCfas"]
            for j in joined:
                j.pop("grants")
            if joined != direct:
                raise SystemExit(f"{runtime} does not answer what Passerelle answers")

        for name, (url, payload) in scenarios.items():
            wrk(url, payload, 2, args.connections, tmp)  # warm
        rounds = {name: [] for name in scenarios}
        for _ in range(args.rounds):
            for name, (url, payload) in scenarios.items():
                r = wrk(url, payload, args.seconds, args.connections, tmp)
                if r["errors"]:
                    raise SystemExit(f"{name}: {r['errors']} errors")
                rounds[name].append(r)
        median = {name: {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50_ms", "p99_ms")}
                  for name, rs in rounds.items()}
        result = {
            "cfas": n, "seconds": args.seconds, "rounds": args.rounds,
            "connections": args.connections, "composition_hints": report["hints"],
            "median": median, "runs": rounds,
            "entities_cost_over_cfas": median["cfas_direct"]["rps"] / median["entities_direct"]["rps"],
            "router_overhead_p50_ms": {
                runtime: median[f"through_{runtime}"]["p50_ms"]
                - median["entities_direct"]["p50_ms"] - median["grants_alone"]["p50_ms"]
                for runtime in routers},
            "machine": {"cores": os.cpu_count()},
        }
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps({k: result[k] for k in ("median", "entities_cost_over_cfas",
                                                 "router_overhead_p50_ms")}, indent=2))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
