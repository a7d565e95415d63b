"""The console's benchmark: how long the campaign page takes to be fully
rendered in headless Chromium with a campaign of 1,000,000 allocations, how
much compressed JavaScript and CSS it transfers, and how long the map page
takes with every commune of Normandy drawn.

    python3 bench/console.py [--allocations N] [--runs R]

Builds the release binary when missing, installs Chromium and its driver
from Debian's packages when missing, writes and pushes the campaign (one
upload per OPCO), signs in through the sandbox's identity provider in the
browser, then loads each page R times with the browser's cache off; each
time is the page's own `ready:<page>` mark, from navigation start. Prints a
table and writes bench/results/console.json. Standard library only: the
browser is driven through chromedriver's W3C WebDriver endpoints.
"""

import argparse
import glob
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "passerelle")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(method, url, body=None, headers=None, timeout=600):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    h = {"content-type": "application/json"}
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, headers=h, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


def wait_up(url, tries=600):
    for _ in range(tries):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


class WebDriver:
    """A Chromium session through chromedriver's W3C endpoints."""

    def __init__(self, port, size):
        self.base = f"http://127.0.0.1:{port}"
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "goog:chromeOptions": {
                        "binary": "/usr/bin/chromium",
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu",
                            "--disable-dev-shm-usage", "--lang=fr-FR",
                            f"--window-size={size[0]},{size[1]}",
                        ],
                    }
                }
            }
        }
        self.session = request("POST", f"{self.base}/session", caps)["value"]["sessionId"]
        self.url = f"{self.base}/session/{self.session}"

    def cdp(self, cmd, params=None):
        return request("POST", f"{self.url}/goog/cdp/execute", {"cmd": cmd, "params": params or {}})

    def goto(self, url):
        request("POST", f"{self.url}/url", {"url": url})

    def run(self, script, *args):
        return request("POST", f"{self.url}/execute/sync", {"script": script, "args": list(args)})["value"]

    def find(self, css):
        found = request("POST", f"{self.url}/element", {"using": "css selector", "value": css})["value"]
        return next(iter(found.values()))

    def click(self, css):
        request("POST", f"{self.url}/element/{self.find(css)}/click", {})

    def type(self, css, text):
        e = self.find(css)
        request("POST", f"{self.url}/element/{e}/clear", {})
        request("POST", f"{self.url}/element/{e}/value", {"text": text})

    def ready(self, page, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            if self.run("return document.documentElement.dataset.ready || null") == page:
                return
            time.sleep(0.02)
        raise SystemExit(f"{page} was never rendered: {self.run('return document.body.innerText')[:500]}")

    def quit(self):
        request("DELETE", self.url)


def measure(driver, url, page):
    """One load of `page` with the cache off: its ready time from navigation
    start, and the compressed bytes of JavaScript and CSS it transferred."""
    driver.run("document.documentElement.removeAttribute('data-ready')")
    driver.goto(url)
    driver.ready(page)
    return driver.run(
        """const ready = performance.getEntriesByName(arguments[0])[0];
           const nav = performance.getEntriesByType('navigation')[0];
           let js = 0, css = 0, geo = 0;
           for (const r of performance.getEntriesByType('resource')) {
             if (r.name.endsWith('.js')) js += r.encodedBodySize;
             else if (r.name.endsWith('.css')) css += r.encodedBodySize;
             else if (r.name.endsWith('.geojson')) geo += r.encodedBodySize;
           }
           return { readyMs: ready.startTime, jsBytes: js, cssBytes: css, geoBytes: geo,
                    htmlBytes: nav.encodedBodySize,
                    communes: document.querySelectorAll('path[data-commune]').length };""",
        f"ready:{page}",
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--allocations", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    if not os.path.exists(BIN):
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "passerelle"], cwd=ROOT, check=True)
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        subprocess.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver",
                       shell=True, check=True)

    work = tempfile.mkdtemp(prefix="passerelle-console-bench.")
    port = free_port()
    server = subprocess.Popen(
        [BIN, "serve", "--data-dir", os.path.join(work, "data"), "--listen", f"127.0.0.1:{port}"],
        env=dict(os.environ, RUST_LOG="warn"),
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(work, "gateway.log"), "w"),
    )
    driver_port = free_port()
    chromedriver = subprocess.Popen(["chromedriver", f"--port={driver_port}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    out = {"allocations": args.allocations, "runs": args.runs}
    try:
        wait_up(f"{base}/readyz")
        print(f"== writing and pushing {args.allocations:,} allocations", file=sys.stderr)
        campaign = os.path.join(work, "campaign")
        subprocess.run([BIN, "sandbox-campaign", "--out", campaign, "--allocations", str(args.allocations),
                        "--employers", str(max(args.allocations // 10, 100)), "--year", "2026"],
                       check=True, stdout=subprocess.DEVNULL)
        pushed = 0
        for path in sorted(glob.glob(os.path.join(campaign, "*.csv"))):
            opco = os.path.basename(path)[: -len(".csv")]
            tok = subprocess.run([BIN, "dev-token", "--scope", "allocations:write", "--opco", opco,
                                  "--data-dir", os.path.join(work, "data")],
                                 check=True, capture_output=True, text=True).stdout.strip()
            with open(path, "rb") as f:
                report = request("POST", f"{base}/ingest/allocations?campaign=2026", f.read(),
                                 {"authorization": f"Bearer {tok}", "content-type": "text/csv",
                                  "idempotency-key": f"bench-{opco}"})
            pushed += report["accepted"]
        out["pushed"] = pushed
        print(f"   {pushed:,} accepted", file=sys.stderr)

        wait_up(f"http://127.0.0.1:{driver_port}/status")
        results = {}
        for label, size in [("desktop", (1366, 900)), ("phone", (390, 844))]:
            d = WebDriver(driver_port, size)
            try:
                # Sign in as a person does, at the sandbox's provider.
                d.goto(f"{base}/console/login?return=/")
                d.type("#subject", "analyste@region-normandie.fr")
                d.click("input[name=grant][value='region:bi']")
                d.click("#sign-in-submit")
                d.ready("accueil")
                d.cdp("Network.enable")
                d.cdp("Network.setCacheDisabled", {"cacheDisabled": True})
                for name, path, page in [("campaign", "/campagne?annee=2026", "campagne"),
                                         ("map", "/offres?niveau=communes", "offres")]:
                    runs = [measure(d, base + path, page) for _ in range(args.runs)]
                    results[f"{name}_{label}"] = {
                        "ready_ms_median": statistics.median(r["readyMs"] for r in runs),
                        "ready_ms_max": max(r["readyMs"] for r in runs),
                        "ready_ms_runs": [round(r["readyMs"], 1) for r in runs],
                        "js_gzip_bytes": runs[-1]["jsBytes"],
                        "css_gzip_bytes": runs[-1]["cssBytes"],
                        "geojson_gzip_bytes": runs[-1]["geoBytes"],
                        "communes_drawn": runs[-1]["communes"],
                    }
            finally:
                d.quit()
        out["pages"] = results
    finally:
        chromedriver.kill()
        server.kill()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)

    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "console.json"), "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print(f"| page | viewport | ready, median of {args.runs} (ms) | slowest (ms) | JS + CSS gzip (KB) | GeoJSON gzip (KB) | communes drawn |")
    print("|---|---|---|---|---|---|---|")
    for key, r in results.items():
        name, label = key.split("_")
        print(f"| {name} | {label} | {r['ready_ms_median']:.0f} | {r['ready_ms_max']:.0f} | "
              f"{(r['js_gzip_bytes'] + r['css_gzip_bytes']) / 1000:.1f} | {r['geojson_gzip_bytes'] / 1000:.1f} | "
              f"{r['communes_drawn']} |")


if __name__ == "__main__":
    main()
