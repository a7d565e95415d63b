#!/usr/bin/env python3
"""Passerelle against Hive Gateway over GraphQL Mesh, and against the limit
of this machine (a bare axum server answering the same bytes), side by side
in one run. Run through bench/gateways.sh, which installs and builds what
this needs.

    python3 bench/gateways.py [--duration S] [--connections N] [--out FILE]

The partner simulators run standalone (`passerelle sandbox`, the CMA feed at
100,000 offers, fixed ports, latency set per scenario). Each scenario runs wrk
against the peer, then Passerelle (then the bare server when it has a
limit), with the same concurrency and duration; peak memory is sampled from
/proc while each runs. The results go to --out as JSON and to stdout as a
table.
"""

import argparse
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
PASSERELLE = ROOT / "target" / "release" / "passerelle"
BARE = ROOT / "target" / "release" / "examples" / "bare"
PEER = ROOT / "bench" / "peer"
WRK_SCRIPT = ROOT / "bench" / "wrk.lua"

SANDBOX_PORT = 4100  # CCI; CMA 4101 … CNFPT 4106
PARTNERS = ["cci", "cma", "carif", "erasmus", "passmonde", "spro", "cnfpt"]
GATEWAY_PORT = 4000
PEER_PORT = 4400
BARE_PORT = 4300
CMA_OFFERS = 100_000

# Scenario 1: the portal's most frequent query, the same every time.
WARM = (
    '{ offers(first: 20, filter: { source: CCI, departement: "14" }) '
    "{ totalCount nodes { id title employer { name } location { communeName } } } }"
)
WARM_PEER = (
    '{ offres(departement: "14", limite: 20) { ... on Page { pagination { total } '
    "data { id intitule entreprise { raison_sociale } lieu { ville } } } } }"
)


def cold(romes, dep, level):
    listed = ", ".join(f'"{r}"' for r in romes)
    return (
        f'{{ offers(first: 20, filter: {{ source: CCI, departement: "{dep}", '
        f"rome: [{listed}], level: {level} }}) "
        "{ totalCount nodes { id title employer { name } location { communeName } } } }"
    )


def cold_peer(romes, dep, level):
    return (
        f'{{ offres(departement: "{dep}", rome: "{",".join(romes)}", niveau: {level}, limite: 20) '
        "{ ... on Page { pagination { total } data { id intitule "
        "entreprise { raison_sociale } lieu { ville } } } } }"
    )


# Scenario 3: every partner in one query. The CFA's UAI varies so that the
# live partners are called every time.
def fan_out(dep, level, uai):
    return (
        f'{{ offers(first: 10, filter: {{ departement: "{dep}", level: {level} }}) '
        "{ totalCount nodes { id title sources { partner } } } "
        f'mobility(filter: {{ cfa: "{uai}" }}) {{ total {{ participants }} }} '
        "publicSector { apprentices { total } } "
        "formations(first: 5) { totalCount } "
        "events(first: 5) { nodes { title } } "
        "orientationSites { nodes { name } } }"
    )


def fan_out_peer(dep, level, uai):
    return (
        f'{{ offres(departement: "{dep}", niveau: {level}, limite: 10) '
        "{ ... on Page { pagination { total } data { id intitule } } } "
        f'bourses(uai: "{uai}", par_page: 200) {{ total bourses {{ numero }} }} }}'
    )


# Scenario 4: a page of 50 CFAs, every joined field.
CFA_PAGE = (
    "{ cfas(first: 50) { totalCount nodes { uai siret name location { communeName } "
    "departement { code } formations { nodes { id title level } } vacancies "
    "offers(first: 10) { nodes { id title employer { name } } } "
    "events(first: 5) { nodes { title start } } nextOpenDay { title start } "
    "mobility { total { participants } } } } }"
)

# Scenario 4b: a page of 100 CFAs, every joined field of bench/federation.py,
# without the response cache: what a portal's CFA page costs when the cache
# cannot help.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from federation import CFA_FIELDS  # noqa: E402

CFA_PAGE_100 = f"{{ cfas(first: 100) {{ totalCount nodes {{ {CFA_FIELDS} }} }} }}"


# Scenario 3c: the fan-out asking exactly the peer's two live sources: the
# CCI's offers (by département and level) and Pass Monde's grants of a CFA.
def fan_out_two(dep, level, uai):
    return (
        f'{{ offers(first: 10, filter: {{ source: CCI, departement: "{dep}", level: {level} }}) '
        "{ totalCount nodes { id title } } "
        f'mobility(filter: {{ cfa: "{uai}", program: PASS_MONDE }}) {{ total {{ participants }} }} }}'
    )


# Scenario 5: 1,000 offers in one page.
LARGE = (
    "{ offers(first: 1000, filter: { source: CCI }) "
    "{ totalCount nodes { id title employer { name } location { communeName } } } }"
)
LARGE_PEER = (
    '{ a: offres(departement: "14", limite: 500) { ... on Page { data { id intitule '
    "entreprise { raison_sociale } lieu { ville } } } } "
    'b: offres(departement: "76", limite: 500) { ... on Page { data { id intitule '
    "entreprise { raison_sociale } lieu { ville } } } } }"
)


def body(query):
    return json.dumps({"query": query})


def post(url, payload, headers=None, timeout=30):
    data = payload.encode() if isinstance(payload, str) else payload
    req = urllib.request.Request(url, data=data, method="POST")
    req.add_header("content-type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def up(url):
    """Whether `url` answers 200."""
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status == 200


def wait_for(check, what, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.05)
    sys.exit(f"{what} did not come up in {timeout} s")


def tree_rss_kib(pid):
    """The resident memory of a process and its descendants, in KiB."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return total


def tree_cpu_s(pid):
    """The CPU time a process and its descendants used, in seconds."""
    total = 0
    todo = [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/stat") as f:
                # After the command's closing parenthesis: utime, stime are
                # the 12th and 13th fields.
                fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return total


class Process:
    def __init__(self, name, cmd, env=None, cwd=None, log_dir=None):
        self.name = name
        log = open(log_dir / f"{name}.log", "w") if log_dir else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            cmd,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def rss_kib(self):
        return tree_rss_kib(self.proc.pid)

    def cpu_s(self):
        return tree_cpu_s(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class Sampler(threading.Thread):
    """The peak resident memory of a process while a measure runs."""

    def __init__(self, process):
        super().__init__(daemon=True)
        self.process = process
        self.peak = 0
        self.running = True

    def run(self):
        while self.running:
            self.peak = max(self.peak, self.process.rss_kib())
            time.sleep(0.1)

    def stop(self):
        self.running = False
        self.join()
        self.peak = max(self.peak, self.process.rss_kib())
        return self.peak


def wrk(url, bodies, duration, connections, process, tmp, env=None, also=None):
    """wrk against `url`: throughput, latency, the peak memory of `process`,
    and the CPU time per request of `process` and of the `also` ones (a
    name for each), so that a scenario shows where its CPU goes."""
    path = tmp / "bodies.txt"
    path.write_text("\n".join(bodies) + "\n")
    watched = {"self": process, **(also or {})}
    cpu_before = {name: p.cpu_s() for name, p in watched.items()}
    sampler = Sampler(process)
    sampler.start()
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(WRK_SCRIPT),
            url,
        ],
        env={**os.environ, "BODIES": str(path), **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    peak = sampler.stop()
    cpu_after = {name: p.cpu_s() for name, p in watched.items()}
    line = [l for l in out.stdout.splitlines() if l.startswith("{")][-1]
    r = json.loads(line)
    errors = sum(r["errors"].values())
    per_request = {
        name: round((cpu_after[name] - cpu_before[name]) * 1000 / max(r["requests"], 1), 3)
        for name in watched
    }
    return {
        "cpu_ms_per_request": per_request,
        "rps": r["requests"] / (r["duration_us"] / 1e6),
        "p50_ms": r["p50_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "errors": errors,
        "requests": r["requests"],
        "bytes_per_answer": r["bytes"] / max(r["requests"], 1),
        "peak_rss_mib": peak / 1024,
    }


def set_latency(ms):
    for i, _ in enumerate(PARTNERS):
        post(f"http://127.0.0.1:{SANDBOX_PORT + i}/_faults", json.dumps({"latency_ms": ms}))


def check_answer(url, query, must_contain):
    raw = post(url, body(query)).decode()
    answer = json.loads(raw)
    if answer.get("errors") or must_contain not in raw:
        sys.exit(f"unexpected answer from {url} to {query[:80]}…: {raw[:500]}")
    return raw


def startup_seconds(runs, tmp):
    """Start-up to ready of the embedded defaults (release build)."""
    times = []
    for i in range(runs):
        data = tmp / f"startup-{i}"
        start = time.perf_counter()
        p = Process(
            f"startup-{i}",
            [str(PASSERELLE), "serve", "--listen", "127.0.0.1:4010", "--data-dir", str(data)],
        )
        wait_for(lambda: up("http://127.0.0.1:4010/readyz"), "the embedded gateway", 60)
        times.append(time.perf_counter() - start)
        p.stop()
    times.sort()
    return {"median_s": times[len(times) // 2], "runs_s": times}


def main():
    global PASSERELLE
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the fan-out latency (3b); the median gap is reported")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "gateways.json"))
    ap.add_argument("--binary", default=None, help="the gateway to measure (target/release/passerelle)")
    args = ap.parse_args()
    if args.binary:
        PASSERELLE = pathlib.Path(args.binary).resolve()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="passerelle-bench-"))
    logs = tmp / "logs"
    logs.mkdir()
    procs = []
    results = {"scenarios": {}, "machine": machine()}

    def run(name, cmd, **kw):
        p = Process(name, cmd, log_dir=logs, **kw)
        procs.append(p)
        return p

    try:
        results["startup"] = startup_seconds(5, tmp)
        print(f"start-up to ready, embedded defaults: {results['startup']['median_s']:.2f} s")

        partners_toml = tmp / "partners.toml"
        sandbox = run(
            "sandbox",
            [
                str(PASSERELLE),
                "sandbox",
                "--base-port",
                str(SANDBOX_PORT),
                "--cma-offers",
                str(CMA_OFFERS),
                "--write-config",
                str(partners_toml),
            ],
        )
        wait_for(lambda: partners_toml.exists() and up(f"http://127.0.0.1:{SANDBOX_PORT + 6}/_faults"), "the sandbox")
        set_latency(20)

        # Passerelle as shipped, on SQLite, with the CMA feed synced.
        config = tomllib.loads(partners_toml.read_text())
        config.update(
            listen=f"127.0.0.1:{GATEWAY_PORT}",
            data_dir=str(tmp / "data"),
            limits={
                "max_page_size": 1000,
                # The benchmark's load comes from one address.
                "rate": {"anonymous_per_second": 10_000_000, "burst": 10_000_000},
            },
        )
        config.setdefault("api", {})["introspection"] = False
        shipped = tmp / "passerelle.json"
        shipped.write_text(json.dumps(config))
        # Without the response cache (the connectors' caches on), for 1b.
        no_response_cache = json.loads(json.dumps(config))
        no_response_cache["api"]["response_cache_ttl"] = "0s"
        no_response_cache_path = tmp / "passerelle-no-response-cache.json"
        no_response_cache_path.write_text(json.dumps(no_response_cache))
        # Without any cache, for the fan-out: every live partner called.
        uncached = json.loads(json.dumps(config))
        uncached["api"]["response_cache_ttl"] = "0s"
        for p in uncached["partners"]:
            if p["kind"] in ("cci", "passmonde", "cnfpt"):
                p["cache_ttl"] = "1ms"
            if p["kind"] == "cnfpt":
                p["counts_ttl"] = "1ms"
        uncached_path = tmp / "passerelle-uncached.json"
        uncached_path.write_text(json.dumps(uncached))

        # The peer's supergraph, composed from the simulators.
        token = json.loads(
            post(
                f"http://127.0.0.1:{SANDBOX_PORT}/oauth/token",
                "grant_type=client_credentials&client_id=passerelle&client_secret=sandbox-cci-secret",
                {"content-type": "application/x-www-form-urlencoded"},
            )
        )["access_token"]
        sample = tmp / "passmonde-sample.json"
        sample.write_bytes(
            urllib.request.urlopen(
                urllib.request.Request(
                    f"http://127.0.0.1:{SANDBOX_PORT + 4}/api/v2/bourses?par_page=3",
                    headers={"X-Api-Key": "sandbox-pass-monde-key"},
                )
            ).read()
        )
        supergraph = tmp / "supergraph.graphql"
        peer_env = {
            "CCI_URL": f"http://127.0.0.1:{SANDBOX_PORT}/",
            "CCI_TOKEN": token,
            "PASSMONDE_URL": f"http://127.0.0.1:{SANDBOX_PORT + 4}",
            "PASSMONDE_KEY": "sandbox-pass-monde-key",
            "PASSMONDE_SAMPLE": str(sample),
            "NODE_ENV": "production",
        }
        subprocess.run(
            ["npx", "mesh-compose", "-o", str(supergraph)],
            cwd=PEER,
            env={**os.environ, **peer_env},
            check=True,
            capture_output=True,
        )

        def start_passerelle(path, name):
            p = run(name, [str(PASSERELLE), "serve", "--config", str(path)], env={"RUST_LOG": "warn"})
            wait_for(lambda: up(f"http://127.0.0.1:{GATEWAY_PORT}/readyz"), name)
            return p

        def start_peer(cache, name):
            p = run(
                name,
                ["node", str(PEER / "node_modules" / ".bin" / "hive-gateway"), "supergraph", str(supergraph), "--host", "127.0.0.1", "--port", str(PEER_PORT)],
                env={**peer_env, "PEER_CACHE": "1" if cache else "0"},
                cwd=PEER,
            )
            wait_for(lambda: up(f"http://127.0.0.1:{PEER_PORT}/readiness"), name, 120)
            return p

        gw_url = f"http://127.0.0.1:{GATEWAY_PORT}/graphql"
        peer_url = f"http://127.0.0.1:{PEER_PORT}/graphql"
        bare_url = f"http://127.0.0.1:{BARE_PORT}/graphql"
        d, c = args.duration, args.connections

        def measure(name, peer, gateway, peer_bodies, bodies, bare_bytes=None, note=""):
            row = {"note": note}
            if peer is not None:
                row["peer"] = wrk(peer_url, peer_bodies, d, c, peer, tmp)
            row["passerelle"] = wrk(gw_url, bodies, d, c, gateway, tmp)
            if bare_bytes is not None:
                answer = tmp / "answer.json"
                answer.write_bytes(bare_bytes)
                bare = run(f"bare-{name}", [str(BARE), f"127.0.0.1:{BARE_PORT}", str(answer)])
                wait_for(lambda: up(f"http://127.0.0.1:{BARE_PORT}/"), "the bare server")
                row["bare"] = wrk(bare_url, bodies, d, c, bare, tmp)
                bare.stop()
            results["scenarios"][name] = row
            show(name, row)

        # Distinct filters: pairs of ROME codes × départements × levels,
        # 42,775 of them; the peer and Passerelle get different halves.
        romes = [r.split(",")[0] for r in (ROOT / "mappings" / "reference" / "rome-subset.csv").read_text().splitlines()[1:] if r]
        deps = ["14", "27", "50", "61", "76"]
        pairs = [(a, b) for i, a in enumerate(romes) for b in romes[i + 1 :]]
        combos = [(p, dep, lvl) for p in pairs for dep in deps for lvl in (3, 4, 5, 6, 7)]
        half = len(combos) // 2

        # Cached scenarios: the peer with its response cache.
        gateway = start_passerelle(shipped, "passerelle")
        results["passerelle_ready_rss_mib"] = gateway.rss_kib() / 1024
        peer = start_peer(True, "peer-cached")
        check_answer(peer_url, WARM_PEER, '"intitule"')
        warm_answer = check_answer(gw_url, WARM, '"title"').encode()
        measure("1. one-partner search, warm", peer, gateway, [body(WARM_PEER)], [body(WARM)], warm_answer)
        measure(
            "2. one-partner search, cold (20 ms)",
            peer,
            gateway,
            [body(cold_peer(*x)) for x in combos[:half]],
            [body(cold(*x)) for x in combos[half:]],
            note="every request a distinct filter",
        )
        check_answer(peer_url, LARGE_PEER, '"intitule"')
        large_answer = check_answer(gw_url, LARGE, '"title"').encode()
        measure("5. 1,000 offers in one page", peer, gateway, [body(LARGE_PEER)], [body(LARGE)], large_answer)
        check_answer(gw_url, CFA_PAGE, '"uai"')
        measure("4. a page of 50 CFAs, every joined field", None, gateway, [], [body(CFA_PAGE)], note="no equivalent at the peer: its sources hold no CFA")
        peer.stop()
        gateway.stop()

        # Scenario 1 without either response cache, then the fan-out.
        peer = start_peer(False, "peer-uncached")
        gateway = start_passerelle(no_response_cache_path, "passerelle-no-response-cache")
        measure(
            "1b. one-partner search, no response cache",
            peer,
            gateway,
            [body(WARM_PEER)],
            [body(WARM)],
            note="neither response cache; Passerelle's connector cache on",
        )
        check_answer(gw_url, CFA_PAGE_100, '"uai"')
        for conns in (4, c):
            name = f"4b. a page of 100 CFAs, every joined field, no response cache, {conns} connections"
            row = {"note": "the connectors' caches on; no equivalent at the peer"}
            row["passerelle"] = wrk(gw_url, [body(CFA_PAGE_100)], d, conns, gateway, tmp)
            results["scenarios"][name] = row
            show(name, row)
        gateway.stop()
        gateway = start_passerelle(uncached_path, "passerelle-uncached")
        set_latency(50)
        uais = cfa_uais(gw_url)
        fan = [(dep, lvl, uai) for uai in uais for dep in deps for lvl in (3, 4, 5)]
        check_answer(peer_url, fan_out_peer(*fan[0]), '"total"')
        check_answer(gw_url, fan_out(*fan[0]), '"participants"')
        # The CPU of each process per request: the gateway's, and the
        # simulators' (they run on the same cores and make the answers).
        def fan_measure(name, bodies, note):
            row = {"note": note}
            row["peer"] = wrk(peer_url, [body(fan_out_peer(*x)) for x in fan], d, c, peer, tmp, also={"simulators": sandbox})
            row["passerelle"] = wrk(gw_url, bodies, d, c, gateway, tmp, also={"simulators": sandbox})
            results["scenarios"][name] = row
            show(name, row)

        fan_measure(
            "3. fan-out, every partner at 50 ms",
            [body(fan_out(*x)) for x in fan],
            "no cache anywhere; Passerelle: 7 partners (3 called live), peer: 2 live sources",
        )
        check_answer(gw_url, fan_out_two(*fan[0]), '"participants"')
        fan_measure(
            "3c. fan-out, the peer's two sources at 50 ms",
            [body(fan_out_two(*x)) for x in fan],
            "no cache anywhere; both ask the CCI's offers and Pass Monde's grants live",
        )
        # Latency alone, at low concurrency, beside that of the slowest
        # partner called directly: the CCI, whose answer is the largest,
        # asked the same searches by as many clients. A few rounds, the two
        # alternating, and the median gap: one round's gap moves by
        # several ms with how the clients' requests fall together.
        for conns in (c, 4, 1):
            row = {"note": f"{conns} connection(s), median of {args.rounds} rounds"}
            row["peer"] = wrk(peer_url, [body(fan_out_peer(*x)) for x in fan], d, conns, peer, tmp)
            rounds = []
            for _ in range(args.rounds):
                ours = wrk(gw_url, [body(fan_out(*x)) for x in fan], d, conns, gateway, tmp)
                partner = wrk(
                    f"http://127.0.0.1:{SANDBOX_PORT}",
                    [f"/api/v1/offres?departement={dep}&niveau={lvl}&limite=500" for dep, lvl, _ in fan],
                    d,
                    conns,
                    sandbox,
                    tmp,
                    env={"GET_PATHS": "1", "AUTHORIZATION": f"Bearer {token}"},
                )
                rounds.append((ours["p50_ms"] - partner["p50_ms"], ours, partner))
            rounds.sort(key=lambda r: r[0])
            _, row["passerelle"], row["slowest_partner"] = rounds[len(rounds) // 2]
            row["gaps_ms"] = [round(r[0], 1) for r in rounds]
            name = f"3b. fan-out latency, {conns} connection{'s' if conns > 1 else ''}"
            results["scenarios"][name] = row
            show(name, row)
        results["passerelle_hwm_mib"] = hwm_kib(gateway) / 1024
    finally:
        for p in reversed(procs):
            p.stop()

    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    results["duration_s"] = args.duration
    results["connections"] = args.connections
    out.write_text(json.dumps(results, indent=2))
    print(f"\nresults in {out}; logs in {logs}")


def cfa_uais(url):
    data = json.loads(post(url, body("{ cfas(first: 50) { nodes { uai } } }")))
    return [n["uai"] for n in data["data"]["cfas"]["nodes"]]


def hwm_kib(process):
    with open(f"/proc/{process.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def machine():
    info = {"cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d")}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    for name, cmd in [("node", ["node", "--version"]), ("wrk", ["wrk", "--version"]), ("rustc", ["rustc", "--version"])]:
        try:
            r = subprocess.run(cmd, capture_output=True, text=True)
            info[name] = (r.stdout or r.stderr).splitlines()[0].strip()
        except OSError:
            pass
    versions = {}
    for pkg in ["@graphql-hive/gateway", "@graphql-mesh/compose-cli", "@omnigraph/openapi", "@omnigraph/json-schema"]:
        try:
            versions[pkg] = json.loads((PEER / "node_modules" / pkg / "package.json").read_text())["version"]
        except OSError:
            pass
    info["peer"] = versions
    return info


def show(name, row):
    def cell(m):
        cpu = "  CPU/req " + ", ".join(f"{k} {v:.2f} ms" for k, v in m.get("cpu_ms_per_request", {}).items())
        return f"{m['rps']:>9,.0f} req/s  p50 {m['p50_ms']:6.1f} ms  p99 {m['p99_ms']:6.1f} ms  {m['peak_rss_mib']:5.0f} MiB  err {m['errors']}{cpu}"

    print(f"\n{name}" + (f"  ({row['note']})" if row.get("note") else ""))
    for who in ("peer", "passerelle", "bare", "slowest_partner"):
        if who in row:
            print(f"  {who:<10} {cell(row[who])}")
    if "slowest_partner" in row:
        gap = row["passerelle"]["p50_ms"] - row["slowest_partner"]["p50_ms"]
        print(f"  Passerelle p50 - slowest partner's p50: {gap:.1f} ms")
        if "gaps_ms" in row:
            print(f"  gaps of the rounds: {', '.join(f'{g:.1f}' for g in row['gaps_ms'])} ms")
    if "peer" in row:
        print(f"  Passerelle/peer: {row['passerelle']['rps'] / max(row['peer']['rps'], 1e-9):.1f}x throughput")
    if "bare" in row:
        print(f"  Passerelle/bare: {100 * row['passerelle']['rps'] / row['bare']['rps']:.0f} % of the limit")


if __name__ == "__main__":
    main()
