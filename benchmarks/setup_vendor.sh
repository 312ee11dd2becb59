#!/usr/bin/env bash
# Install the vendor's smsflow 0.2.0 into its own venv, for the benchmark's vendor rows.
# Never install it beside this repository's smsflow: both are imported as `smsflow`.
# Usage: benchmarks/setup_vendor.sh [VENV]   (default /tmp/smsflow-vendor-0.2.0)
set -euo pipefail
venv="${1:-/tmp/smsflow-vendor-0.2.0}"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "smsflow==0.2.0"
"$venv/bin/python" -I -c 'import importlib.metadata as m; print("vendor smsflow", m.version("smsflow"), "in", "'"$venv"'")'
