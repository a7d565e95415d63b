#!/usr/bin/env bash
# Checks the Helm chart without a cluster or a helm binary: installs the
# Helm library (helm-python-sdk) and kubernetes-validate in a virtual
# environment, then runs check.py. Usage: bash helm/check.sh OUT_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${PASSERELLE_HELM_VENV:-$here/../target/helm-venv}"
if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -c 'import ensurepip' 2>/dev/null; then
    echo "== installing python3-venv (for the chart's checks)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import helm_python, kubernetes_validate' 2>/dev/null; then
  echo "== installing helm-python-sdk and kubernetes-validate (for the chart's checks)" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check \
    helm-python-sdk==0.2.2 kubernetes-validate==1.37.0
fi
exec "$venv/bin/python" "$here/check.py" "$1"
