"""Every Python block of README.md runs as a plain script, as a user would save and run it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_has_python_blocks():
    sweeps = [b for b in BLOCKS if "run_sweep" in b]
    assert len(BLOCKS) >= 2 and sweeps
    assert not any("__main__" in b for b in sweeps)  # the sweep block is guard-free, as users write it


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_a_readme_python_block_runs_as_a_plain_script(index, tmp_path):
    script = tmp_path / f"readme_block_{index}.py"
    script.write_text(BLOCKS[index], encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr


def test_readme_shell_lines_paste_as_they_read():
    """No `a|b|c` choice written as an option value: pasted into a shell it is a pipe."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    shell = [line for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S) for line in block.splitlines()]
    assert shell
    commands = [line.split("#")[0] for line in shell]
    assert not [c for c in commands if re.search(r"--\w[\w-]* \w+\|\w", c)], commands
