"""docs/python.md's example runs as written: its python block executed
from a scratch directory that sees the repository's .cache (models and
data), and its printed claims checked: the quantized library was written
and its outputs stay close to float's on the held-out windows."""
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def example_code():
    text = open(os.path.join(ROOT, "docs", "python.md")).read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "docs/python.md has no python block"
    return blocks[0]


def test_docs_example_runs(tmp_path):
    os.symlink(os.path.join(ROOT, ".cache"), tmp_path / ".cache")
    script = tmp_path / "example.py"
    script.write_text(example_code())
    env = dict(os.environ)
    if os.environ.get("QUANTC_INSTALLED") != "1":
        env["PYTHONPATH"] = os.path.join(ROOT, "python")
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=900)
    print(run.stdout[-3000:], run.stderr[-3000:])
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "alexa_w8a8.so").exists()
    m = re.search(r"largest \|quantized - float\| over the held-out windows: (\S+)", run.stdout)
    assert m, run.stdout[-2000:]
    worst = float(m.group(1))
    # The head ends in a sigmoid (scores in [0, 1]); w8a8 moves them by
    # at most a few hundredths, a broken quantizer by far more.
    assert worst <= 0.05 and worst > 0, worst
