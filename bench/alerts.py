#!/usr/bin/env python3
"""Offers pushed to candidates at the size of a region, on one machine.

Runs the release binary in its embedded defaults (every simulator
in-process, SQLite) and measures, side by side in one run:

1. Idle subscribers: the gateway's resident memory before and after
   SUBSCRIBERS graphql-ws subscribers first connect (bench/subscribers.mjs,
   varied filters), and the warm offer-search throughput (wrk, the response
   cache off so that every request searches) without them and with them, in
   ROUNDS alternating rounds (the subscribers connect and leave each round):
   the ratio is of the medians, so that the machine's drift between rounds
   weighs on both sides alike. Last, on a gateway started afresh, the memory
   of as many subscribers each with a filter of its own (nothing shared).
2. A burst: one CMA snapshot bringing NEW_OFFERS new offers to the
   subscribers and to ALERTS saved alerts with varied filters (written
   straight into the store before the gateway starts): by département, by
   ROME code within a département, around any commune of Normandy at 5 to
   50 km, by two ROME codes, by diploma level within a département, at one
   commune. The gateway logs how
   long its detection took from the snapshot served to every subscriber
   handed its offers and the outbox written; the subscribers' client gives
   when the last offer reached it.
3. Webhooks: the deliveries that burst owes, to bench/receiver.py answering
   after LATENCY_MS, per second.

    python3 bench/alerts.py [--subscribers 10000] [--alerts 100000]
        [--new-offers 500] [--latency-ms 50] [--wrk-seconds 10] [--rounds 3]
        [--binary target/release/passerelle] [--out bench/results/alerts.json]
        [--filters all|distinct]

With --filters distinct, only the last measure of 1 runs: the memory of
SUBSCRIBERS subscribers each with a filter of its own.

Installs what it needs when it is missing: wrk (Debian's package), the ws
package (`npm ci` in tests/audit) and the release build.
"""

import argparse
import base64
import csv
import json
import os
import queue
import random
import resource
import shutil
import signal
import statistics
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Communes the circles are drawn around, with their positions.
CENTRES = [
    ("14118", 49.1859, -0.3591),
    ("76540", 49.4431, 1.0993),
    ("76351", 49.4944, 0.1079),
    ("50129", 49.6337, -1.6222),
    ("61001", 48.4348, 0.0931),
    ("27229", 49.0241, 1.1508),
]
DEPARTEMENTS = ["14", "27", "50", "61", "76"]
ROMES = ["D1102", "D1106", "F1603", "G1602", "H2909", "I1604", "K2204", "M1607",
         "D1211", "G1803", "F1610", "D1101", "D1104", "H2206", "I1606"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(method, url, body=None, headers=None):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=600) as r:
        return r.status, r.read()


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Gateway:
    """`passerelle serve`, its JSON log lines in a queue."""

    def __init__(self, binary, config, port):
        self.port = port
        self.proc = subprocess.Popen(
            [binary, "serve", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "RUST_LOG": "info"},
        )
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            try:
                self.lines.append(json.loads(line))
            except ValueError:
                pass

    def wait_for(self, message, timeout=600, where=lambda l: True, after=0):
        """The first line logged since line `after` with `message`."""
        end = time.time() + timeout
        while time.time() < end:
            for line in self.lines[after:]:
                fields = line.get("fields", line)
                if fields.get("message") == message and where(fields):
                    return fields
            time.sleep(0.05)
        raise SystemExit(f"the gateway did not log {message!r} within {timeout} s")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def ensure_tools(binary):
    """Installs wrk, the ws package and the release build when missing."""
    if shutil.which("wrk") is None:
        print("== installing wrk", file=sys.stderr)
        subprocess.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
                       "apt-get install -y -qq wrk >/dev/null", shell=True, check=True)
    if not (ROOT / "tests" / "audit" / "node_modules" / "ws").is_dir():
        print("== npm ci in tests/audit", file=sys.stderr)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT / "tests" / "audit",
                       check=True, stdout=subprocess.DEVNULL)
    if not Path(binary).exists():
        print("== cargo build --release", file=sys.stderr)
        subprocess.run(["cargo", "build", "--release", "-p", "passerelle", "--bin", "passerelle"],
                       cwd=ROOT, check=True)


def normandy_communes():
    """Code, latitude and longitude of every commune of Normandy the
    project has coordinates for."""
    out = []
    with open(ROOT / "mappings" / "reference" / "communes-coordinates.csv") as f:
        for row in csv.DictReader(f):
            if row["code_insee"][:2] in DEPARTEMENTS:
                out.append((row["code_insee"], float(row["lat"]), float(row["lon"])))
    return out


def seed_alerts(db, count, hook):
    """`count` IMMEDIATE alerts with varied filters, to `hook`."""
    rng = random.Random(19)
    communes = normandy_communes()
    rows = []
    now = int(time.time() * 1e6)
    for i in range(count):
        kind = i % 6
        if kind == 0:
            f = {"departement": DEPARTEMENTS[i % 5]}
        elif kind == 1:
            f = {"rome": [ROMES[i % len(ROMES)]], "departement": DEPARTEMENTS[(i // 6) % 5]}
        elif kind == 2:
            _, lat, lon = rng.choice(communes)
            f = {"near": {"centre": {"latitude": lat, "longitude": lon},
                          "radius_km": float(rng.choice([5, 10, 20, 30, 50]))}}
        elif kind == 3:
            f = {"rome": rng.sample(ROMES, 2)}
        elif kind == 4:
            f = {"level": rng.choice([3, 4, 5]), "departement": DEPARTEMENTS[i % 5]}
        else:
            f = {"commune": rng.choice(communes)[0]}
        secret = "whsec_" + base64.b64encode(rng.randbytes(24)).decode()
        rows.append((f"alrt_bench{i:06d}", "bench", f"cand-{i}", json.dumps(f), hook,
                     secret, "IMMEDIATE", 1, None, now + i))
    con = sqlite3.connect(db)
    con.executemany(
        "INSERT INTO offer_alerts (id, client_id, candidate_ref, filter, webhook_url, secret, "
        "digest, active, disabled_why, created_us) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    con.execute("UPDATE offer_alerts_generation SET n = n + 1 WHERE one = 1")
    con.commit()
    con.close()


def metric(gw, name):
    """A gauge of the gateway's /metrics."""
    with urllib.request.urlopen(gw.url("/metrics"), timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
    return None


def wrk(url, seconds, tmp):
    bodies = tmp / "bodies.txt"
    queries = [
        '{ offers(first: 20, filter: { departement: \\"%s\\" }) { totalCount edges { cursor node { id title employer { name } location { communeCode } } } } }' % d
        for d in DEPARTEMENTS
    ] + [
        '{ offers(first: 20, filter: { near: { commune: \\"%s\\", radiusKm: 30 } }, orderBy: DISTANCE) { totalCount edges { distanceKm node { id title } } } }' % c
        for c, _, _ in CENTRES
    ]
    bodies.write_text("\n".join('{"query": "%s"}' % q for q in queries) + "\n")
    out = subprocess.run(
        ["wrk", "-t1", "-c16", f"-d{seconds}s", "--timeout", "10s", "-s",
         str(ROOT / "bench" / "wrk.lua"), url],
        env={**os.environ, "BODIES": str(bodies)}, capture_output=True, text=True, check=True)
    r = json.loads([l for l in out.stdout.splitlines() if l.startswith("{")][-1])
    return {"rps": r["requests"] / (r["duration_us"] / 1e6), "p99_ms": r["p99_us"] / 1000,
            "errors": sum(r["errors"].values())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=10000)
    ap.add_argument("--alerts", type=int, default=100000)
    ap.add_argument("--new-offers", type=int, default=500)
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--wrk-seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--binary", default=str(ROOT / "target" / "release" / "passerelle"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "alerts.json"))
    ap.add_argument("--filters", choices=["all", "distinct"], default="all",
                    help="distinct: only the memory of subscribers each with a filter of its own")
    args = ap.parse_args()
    ensure_tools(args.binary)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < args.subscribers + 1000:
        raise SystemExit(f"the open-files limit ({hard}) is below {args.subscribers} connections")

    tmp = Path(tempfile.mkdtemp(prefix="passerelle-alerts-"))
    receiver = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "receiver.py"), "--port", "0",
         "--latency-ms", str(args.latency_ms), "--report-s", "1"],
        stdout=subprocess.PIPE, text=True)
    rport = json.loads(receiver.stdout.readline())["port"]
    reports = queue.Queue()
    threading.Thread(target=lambda: [reports.put(json.loads(l)) for l in receiver.stdout],
                     daemon=True).start()

    port = free_port()
    config = tmp / "passerelle.toml"
    config.write_text(f"""
listen = "127.0.0.1:{port}"
data_dir = "{tmp}"
[sandbox]
base_port = 0
[log]
format = "json"
[api]
response_cache_ttl = "0s"
[limits.rate]
anonymous_per_second = 1000000
burst = 1000000
[alerts]
poll_interval = "1h"
delivery_concurrency = 256
retry_base = "30s"
[subscriptions]
connections_per_address = {args.subscribers + 100}
per_connection = 4
""")
    result = {"subscribers": args.subscribers, "alerts": args.alerts,
              "new_offers": args.new_offers, "receiver_latency_ms": args.latency_ms}

    def connect(filters="varied"):
        subs = subprocess.Popen(
            ["node", "--max-old-space-size=4096", str(ROOT / "bench" / "subscribers.mjs"),
             "--url", f"ws://127.0.0.1:{port}/graphql", "--count", str(args.subscribers),
             "--filters", filters],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        connected = json.loads(subs.stdout.readline())
        time.sleep(2)
        return subs, connected

    def leave(subs):
        subs.send_signal(signal.SIGTERM)
        subs.wait()
        time.sleep(2)

    def idle_distinct():
        """The worst case: every subscriber a filter of its own, on a
        gateway just started (so that the memory others left is not
        reused)."""
        gw = Gateway(args.binary, config, port)
        gw.wait_for("passerelle listening")
        time.sleep(2)
        before = rss_kib(gw.proc.pid)
        subs, connected = connect("distinct")
        after = rss_kib(gw.proc.pid)
        result["idle_distinct"] = {
            "connected": connected,
            "executions": metric(gw, "passerelle_subscription_executions"),
            "rss_before_kib": before,
            "rss_with_kib": after,
            "added_mib": (after - before) / 1024,
            "kib_per_subscriber": (after - before) / max(connected["connected"], 1),
        }
        leave(subs)
        gw.stop()

    if args.filters == "distinct":
        idle_distinct()
        receiver.terminate()
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
        return
    # A first start creates the store and records the catalogue as seen.
    gw = Gateway(args.binary, config, port)
    gw.wait_for("new offers detected", where=lambda f: f.get("baseline"))
    gw.stop()
    seed_alerts(tmp / "passerelle.db", args.alerts, f"http://127.0.0.1:{rport}/hook")
    gw = Gateway(args.binary, config, port)
    gw.wait_for("saved alerts indexed")
    gw.wait_for("passerelle listening")
    url = gw.url("/graphql")
    wrk(url, 3, tmp)  # warm

    rounds = []
    rss_before = rss_kib(gw.proc.pid)
    first = None
    for r in range(args.rounds):
        without = wrk(url, args.wrk_seconds, tmp)
        before = rss_kib(gw.proc.pid)
        subs, connected = connect()
        rss_with = rss_kib(gw.proc.pid)
        with_subs = wrk(url, args.wrk_seconds, tmp)
        rounds.append({"without": without, "with": with_subs, "connected": connected,
                       "rss_before_kib": before, "rss_with_kib": rss_with})
        if first is None:
            first = (connected, rss_with)
        if r + 1 < args.rounds:
            leave(subs)
    connected, rss_with = first
    med_without = statistics.median(x["without"]["rps"] for x in rounds)
    med_with = statistics.median(x["with"]["rps"] for x in rounds)
    executions = metric(gw, "passerelle_subscription_executions")
    result["idle"] = {
        "executions": executions,
        "connected": connected,
        "rss_before_kib": rss_before,
        "rss_with_kib": rss_with,
        "added_mib": (rss_with - rss_before) / 1024,
        "kib_per_subscriber": (rss_with - rss_before) / max(connected["connected"], 1),
        "rounds": rounds,
        "search_without_median_rps": med_without,
        "search_with_median_rps": med_with,
        "search_with_over_without": med_with / med_without,
    }

    # The burst.
    http("POST", gw.url("/_sandbox/cma/faults"), json.dumps({"publish_new": args.new_offers}),
         {"content-type": "application/json"})
    logged = len(gw.lines)
    sync_at = time.time()
    http("POST", gw.url("/_sandbox/cma/sync"))
    synced_at = time.time()
    detected = gw.wait_for("new offers detected", where=lambda f: f.get("offers", 0) > 0,
                           after=logged)
    received = {}
    for _ in range(30):
        time.sleep(1)
        subs.send_signal(signal.SIGUSR2)
        line = json.loads(subs.stdout.readline())
        if line.get("received") == received.get("received"):
            break
        received = line
    result["burst"] = {
        "offers": detected["offers"],
        "deliveries_written": detected["deliveries"],
        "offers_handed_to_subscribers": detected["notified"],
        "detection_ms": detected["elapsed_ms"],
        "detection_phases_ms": {k: detected.get(f"{k}_ms") for k in ("search", "match", "write", "publish")},
        "sync_request_ms": (synced_at - sync_at) * 1000,
        "received_by_subscribers": received.get("received"),
        "last_received_after_sync_ms": (received["lastAt"] / 1000 - synced_at) * 1000
        if received.get("lastAt") else None,
    }

    # The webhooks the burst owes.
    owed = detected["deliveries"]
    first = last = None
    total = 0
    end = time.time() + 600
    while total < owed and time.time() < end:
        try:
            r = reports.get(timeout=5)
        except queue.Empty:
            continue
        if r.get("received", 0) > 0 and first is None:
            first = time.time() - 1
        total = r.get("received", 0)
        last = time.time()
    result["webhooks"] = {
        "owed": owed,
        "received": total,
        "seconds": (last - first) if first and last else None,
        "per_second": total / (last - first) if first and last and last > first else None,
    }

    leave(subs)
    gw.stop()

    idle_distinct()
    receiver.terminate()
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
