# pyarrow (from PyPI) in a virtual environment of the test run, kept between runs; sourced.
# Sets PY to its python, or fails the caller when it cannot be installed.
pyarrow_venv="$RUN_DIR/pyarrow-venv"; PY="$pyarrow_venv/bin/python"
if ! "$PY" -c 'import pyarrow' 2>/dev/null; then
  python3 -m venv --clear "$pyarrow_venv" && "$pyarrow_venv/bin/pip" install -q 'pyarrow>=15' \
    || { echo "could not install pyarrow into $pyarrow_venv (python3 -m venv, pip install pyarrow)" >&2; exit 1; }
fi
