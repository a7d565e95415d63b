"""Renders, lints and validates the Passerelle chart without a cluster.

Run by check.sh (which installs what it needs in a virtual environment):

    python check.py OUT_DIR

For each set of values it must accept (a minimal one and a production-like
one): checks the values against values.schema.json, lints the chart
strictly, renders it, validates every manifest strictly against the
Kubernetes API schemas (kubernetes-validate, offline) and checks what the
chart promises (non-root, read-only root filesystem, probes, no inline
secret). It writes each rendered gateway configuration and mapping files
under OUT_DIR/CASE/ for the gateway's own test to load. Sets of values it
must refuse are refused with the expected message. Exits 1 on any failure.
"""

import copy
import json
import pathlib
import sys

import helm_python as helm
import jsonschema
import kubernetes_validate
import yaml

HERE = pathlib.Path(__file__).resolve().parent
CHART = HERE / "passerelle"
ROOT = HERE.parent
# The oldest Kubernetes the chart supports (Chart.yaml's kubeVersion) and a
# recent one.
KUBERNETES = ["1.30.0", "1.34.0"]

# The Prometheus Operator's ServiceMonitor is a custom resource that the
# Kubernetes schemas do not hold: the fields the chart writes are checked
# against this subset of its CRD (monitoring.coreos.com/v1).
SERVICE_MONITOR = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {"type": "object", "required": ["name"]},
        "spec": {
            "type": "object",
            "required": ["selector", "endpoints"],
            "additionalProperties": False,
            "properties": {
                "selector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "matchLabels": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                        }
                    },
                },
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string"},
                            "interval": {
                                "type": "string",
                                "pattern": "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
                            },
                        },
                    },
                },
            },
        },
    },
}

MINIMAL = {
    "auth": {
        "jwksUrl": "https://sso.example/realms/apprentissage/protocol/openid-connect/certs",
        "issuer": "https://sso.example/realms/apprentissage",
    },
    "partners": [{"kind": "cma", "feed_url": "https://cma.example/flux/offres.xml"}],
}

failures = []


def fail(case, message):
    failures.append(f"{case}: {message}")
    print(f"FAIL {case}: {message}")


def declared():
    """A partner declared in the values, its mapping file beside it."""
    values = json.loads(json.dumps(MINIMAL))
    values["partners"].append({
        "kind": "declared", "id": "branche", "api_name": "BRANCHE",
        "name": "Branche", "about": "A branch's catalogue.",
        "feeds": [{"entity": "formation", "url": "https://branche.example/catalogue.xml"}],
    })
    values["mappings"] = {"branche/formation.toml": (ROOT / "tests" / "tests" / "e2e" / "declared" / "formation.toml").read_text()}
    return values


def production():
    values = yaml.safe_load((CHART / "ci" / "production-values.yaml").read_text())
    values["mappings"]["cma/offer.toml"] = (ROOT / "mappings" / "cma" / "offer.toml").read_text()
    return values


def check_promises(case, docs):
    kinds = {d["kind"] for d in docs}
    if "Secret" in kinds:
        fail(case, "the chart renders a Secret: secrets are created outside it")
    for want in ["Deployment", "Service", "ConfigMap", "ServiceAccount"]:
        if want not in kinds:
            fail(case, f"no {want} rendered")
    for d in docs:
        if d["kind"] != "Deployment":
            continue
        pod = d["spec"]["template"]["spec"]
        if not pod["securityContext"].get("runAsNonRoot"):
            fail(case, "the pod may run as root")
        (container,) = pod["containers"]
        sc = container["securityContext"]
        if not sc.get("readOnlyRootFilesystem") or sc.get("allowPrivilegeEscalation"):
            fail(case, "the container's root filesystem is writable or it may escalate")
        if container["livenessProbe"]["httpGet"]["path"] != "/healthz":
            fail(case, "liveness is not /healthz")
        if container["readinessProbe"]["httpGet"]["path"] != "/readyz":
            fail(case, "readiness is not /readyz")
        if "limits" not in container.get("resources", {}):
            fail(case, "no resource limits")
        for env in container.get("env", []):
            if "value" in env and env["name"] != "RUST_LOG":
                fail(case, f"environment variable {env['name']} written inline")
        store = [e for e in container["env"] if e["name"] == "PASSERELLE_STORE_URL"]
        if not store or "secretKeyRef" not in store[0].get("valueFrom", {}):
            fail(case, "the store URL does not come from a Secret")


def accept(case, values, out):
    before = len(failures)
    chart = helm.Chart.load(CHART)
    try:
        chart.validate_schema(values)
    except helm.HelmError as e:
        fail(case, f"values refused by the schema: {e}")
        return
    for kube in KUBERNETES:
        report = helm.lint(CHART, values, strict=True, kube_version=f"v{kube}")
        problems = [m for m in report["messages"] if m["severity"] >= 2] + [
            {"error": e} for e in report.get("errors", [])
        ]
        for p in problems:
            fail(case, f"helm lint (Kubernetes {kube}): {p.get('path', '')} {p['error']}")
    rendered = chart.render(values, name="passerelle", namespace="apprentissage", is_install=True)
    docs = []
    for path, text in sorted(rendered.items()):
        if not path.endswith((".yaml", ".yml")):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                docs.append(doc)
    for doc in docs:
        what = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["apiVersion"] == "monitoring.coreos.com/v1":
            try:
                jsonschema.validate(doc, SERVICE_MONITOR)
            except jsonschema.ValidationError as e:
                fail(case, f"{what}: {e.message}")
            continue
        for kube in KUBERNETES:
            try:
                kubernetes_validate.validate(doc, kube, strict=True)
            except kubernetes_validate.ValidationError as e:
                fail(case, f"{what} (Kubernetes {kube}): {e.message} at {list(e.path)}")
            except kubernetes_validate.SchemaNotFoundError as e:
                fail(case, f"{what}: no schema for it in Kubernetes {kube}: {e}")
    check_promises(case, docs)
    # What the gateway's test loads.
    dest = out / case
    (dest / "mappings").mkdir(parents=True, exist_ok=True)
    for doc in docs:
        if doc["kind"] != "ConfigMap":
            continue
        for key, text in doc["data"].items():
            if key == "passerelle.json":
                (dest / key).write_text(text)
            else:
                path = dest / "mappings" / key.replace("__", "/")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    if len(failures) == before:
        print(f"ok   {case}: {len(docs)} manifests ({', '.join(sorted(d['kind'] for d in docs))})")


def refuse(case, values, expected):
    chart = helm.Chart.load(CHART)
    try:
        chart.validate_schema(values)
        chart.render(values, name="passerelle", namespace="apprentissage")
    except helm.HelmError as e:
        if expected not in str(e):
            fail(case, f"refused, but not for {expected!r}: {e}")
        else:
            print(f"ok   {case}: refused ({expected})")
        return
    fail(case, "accepted")


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    accept("minimal", copy.deepcopy(MINIMAL), out)
    accept("production", production(), out)
    accept("declared", declared(), out)

    refuse("defaults", {}, "partners")
    no_jwks = copy.deepcopy(MINIMAL)
    del no_jwks["auth"]["jwksUrl"]
    refuse("no-identity-provider", no_jwks, "auth.jwksUrl")
    inline = production()
    inline["partners"][0]["credentials"]["client_secret"] = "s3cret"
    refuse("inline-partner-secret", inline, "client_secret")
    literal = copy.deepcopy(MINIMAL)
    literal["extraEnv"] = [{"name": "CNFPT_PASSWORD", "value": "s3cret"}]
    refuse("inline-environment-secret", literal, "extraEnv")
    store = copy.deepcopy(MINIMAL)
    store["config"] = {"store_url": "postgres://passerelle:s3cret@db/passerelle"}
    refuse("store-url-in-config", store, "config")
    proxy = copy.deepcopy(MINIMAL)
    proxy["config"] = {"server": {"trusted_proxies": ["ingress-nginx"]}}
    refuse("trusted-proxy-by-name", proxy, "ingress-nginx")

    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("the chart renders, lints and validates")


if __name__ == "__main__":
    main()
