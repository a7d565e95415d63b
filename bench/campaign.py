"""Drives one gateway per store through the campaign benchmark; see
campaign.sh. Standard library only."""

import argparse
import glob
import json
import os
import socket
import statistics
import subprocess
import time
import urllib.request

QUERY = """{ taxCampaign(year: 2026) {
  totals { amount allocations employers establishments toNormandy outsideNormandy leaked leakageRate }
  byOpco { key amount allocations }
  byEmployerDepartement { key amount allocations employers }
  byWeek { key amount allocations }
  establishments(first: 50) { totalCount nodes { uai name departement amount allocations employers } }
} }"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) // 1024  # MiB
    return 0


def token(binary, data, scope, opco=None):
    args = [binary, "dev-token", "--scope", scope, "--data-dir", data, "--ttl", "6h"]
    if opco:
        args += ["--opco", opco]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def post(url, body, headers):
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def upload(base, tok, path, key, campaign):
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        start = time.perf_counter()
        report = post(
            f"{base}/ingest/allocations?campaign={campaign}",
            f,
            {
                "authorization": f"Bearer {tok}",
                "idempotency-key": key,
                "content-type": "text/csv",
                "content-length": str(size),
            },
        )
        return report, time.perf_counter() - start


def run(binary, work, name, store_url):
    data = os.path.join(work, name)
    os.makedirs(data, exist_ok=True)
    port = free_port()
    env = dict(os.environ, PASSERELLE_STORE_URL=store_url, RUST_LOG="warn")
    server = subprocess.Popen(
        [binary, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(work, f"{name}.log"), "w"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{base}/readyz", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        out = {"rss_ready": status(server.pid, "VmRSS")}
        akto = token(binary, data, "allocations:write", "AKTO")

        report, secs = upload(base, akto, os.path.join(work, "small.csv"), "small", 2024)
        out["small_records"] = report["received"]
        out["small_rate"] = report["received"] / secs
        out["peak_small"] = status(server.pid, "VmHWM")

        report, secs = upload(base, akto, os.path.join(work, "large.csv"), "large", 2026)
        out["large_records"] = report["received"]
        out["large_accepted"] = report["accepted"]
        out["large_secs"] = secs
        out["large_rate"] = report["received"] / secs
        out["peak_large"] = status(server.pid, "VmHWM")

        bi = token(binary, data, "region:bi")
        body = json.dumps({"query": QUERY}).encode()
        headers = {"authorization": f"Bearer {bi}", "content-type": "application/json"}
        answer = post(f"{base}/graphql", body, headers)
        assert "errors" not in answer, answer
        out["campaign_allocations"] = answer["data"]["taxCampaign"]["totals"]["allocations"]
        times = []
        for _ in range(200):
            start = time.perf_counter()
            post(f"{base}/graphql", body, headers)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        out["campaign_p50_ms"] = statistics.median(times)
        out["campaign_p99_ms"] = times[int(len(times) * 0.99) - 1]

        records = 0
        start = time.perf_counter()
        for path in sorted(glob.glob(os.path.join(work, "api", "*.jsonl"))):
            opco = os.path.basename(path)[: -len(".jsonl")]
            tok = token(binary, data, "allocations:write", opco)
            h = {"authorization": f"Bearer {tok}", "content-type": "application/json"}
            with open(path, "rb") as f:
                for line in f:
                    r = post(f"{base}/graphql", line, h)
                    assert "errors" not in r, r
                    records += r["data"]["pushAllocations"]["accepted"]
        out["mutation_rate"] = records / (time.perf_counter() - start)
        out["mutation_records"] = records
        return out
    finally:
        server.kill()
        server.wait()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--store", action="append", required=True)
    a = p.parse_args()
    results = {}
    for spec in a.store:
        name, url = spec.split("=", 1)
        print(f"== {name}", flush=True)
        results[name] = run(a.bin, a.work, name, url)
        print(json.dumps(results[name], indent=1), flush=True)
    names = list(results)
    rows = [
        ("bulk upload, one file of {} records: records/s", "large_rate", "{:,.0f}"),
        ("bulk upload, that file: seconds", "large_secs", "{:.1f}"),
        ("bulk upload, 10x smaller file: records/s", "small_rate", "{:,.0f}"),
        ("pushAllocations, 1,000 records a call: records/s", "mutation_rate", "{:,.0f}"),
        ("taxCampaign at the large campaign, p50 ms", "campaign_p50_ms", "{:.1f}"),
        ("taxCampaign at the large campaign, p99 ms", "campaign_p99_ms", "{:.1f}"),
        ("server RSS when ready, MiB", "rss_ready", "{}"),
        ("server peak RSS after the small upload, MiB", "peak_small", "{}"),
        ("server peak RSS after the large upload, MiB", "peak_large", "{}"),
    ]
    large = results[names[0]]["large_records"]
    print()
    print("| measure | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for label, key, fmt in rows:
        print(f"| {label.format(f'{large:,}')} | " + " | ".join(fmt.format(results[n][key]) for n in names) + " |")
    if len(names) == 2:
        a_, b_ = names
        print(f"\nratio {a_}/{b_} bulk rate: {results[a_]['large_rate'] / results[b_]['large_rate']:.2f}")


if __name__ == "__main__":
    main()
