#!/usr/bin/env bash
# `pip install .` into a fresh venv (build dependencies from the package
# index, the extension built by scikit-build-core through CMake), then the
# Python tests against the installed package, run from outside the source
# tree so that nothing but the install is imported.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-$root/build/pip-check}"
rm -rf "$work/venv" "$work/run"
mkdir -p "$work/run"
python3 -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install -q --disable-pip-version-check "$root"
# The test references (pytest, onnx, onnxruntime) at the project's pins.
grep -E '^(pytest|onnx|onnxruntime|pluggy|iniconfig|packaging|protobuf|numpy|ml_dtypes|typing_extensions|flatbuffers|coloredlogs|humanfriendly|sympy|mpmath|tqdm)==' \
  "$root/python/requirements.lock" > "$work/run/test-requirements.txt"
"$py" -m pip install -q --disable-pip-version-check -r "$work/run/test-requirements.txt"
"$py" -c "import quantc, os; print('installed:', os.path.dirname(quantc.__file__))"
cd "$work/run"
QUANTC_INSTALLED=1 "$py" -m pytest -q -p no:cacheprovider \
  --rootdir "$root/test/Python" "$root/test/Python"
