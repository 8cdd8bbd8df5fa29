"""Sweeps that survive what happens to long runs: a worker killed or crashing, Ctrl-C, the parent
process killed. Each test checks that nothing finished is lost, nothing is duplicated and no worker
is left running."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from igfsim.sweep import Axis, Sweep, run_sweep
from igfsim.sweep.executors import MAX_LOSSES, PARENT_POLL_S, OwnedPool, drain

linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads worker pids from /proc")


def _square_or_die(x: int) -> int:
    """A task for the workers: 7 kills its worker (as a segfault or the OOM killer would)."""
    if x == 7:
        os._exit(9)
    time.sleep(0.02)
    return x * x


def _drain_all(owned: OwnedPool, items: list[int]) -> dict[int, Future]:
    got: dict[int, Future] = {}

    def sink(item: int, f: Future) -> None:
        assert item not in got, f"task {item} reached the sink twice"
        got[item] = f

    try:
        drain(owned.pool, _square_or_die, items, sink, window=4, respawn=owned.respawn)
    finally:
        owned.stop(now=True)
    return got


def test_a_task_that_kills_its_worker_is_reported_once_and_the_others_finish():
    owned = OwnedPool(2)
    got = _drain_all(owned, list(range(12)))
    assert sorted(got) == list(range(12))
    assert isinstance(got[7].exception(), BrokenProcessPool)  # lost MAX_LOSSES times, then given up
    assert {i: f.result() for i, f in got.items() if i != 7} == {i: i * i for i in range(12) if i != 7}
    assert owned.restarts == MAX_LOSSES  # one fresh pool per loss


def test_without_respawn_a_dead_worker_goes_to_the_sink_or_raises():
    owned = OwnedPool(1)
    seen: list[int] = []
    with pytest.raises(BrokenProcessPool):  # later submits to the broken pool fail
        try:
            drain(owned.pool, _square_or_die, [1, 7, 2, 3, 4, 5, 6, 8, 9], lambda i, f: seen.append(i), window=2)
        finally:
            owned.stop(now=True)
    assert 7 in seen or not seen  # nothing is silently dropped: what came back was handed over


def _env(key: str) -> str | None:
    return os.environ.get(key)


def test_workers_get_the_callers_environment_as_it_is_when_the_pool_starts(monkeypatch):
    """A fork server keeps the environment it started with; a worker started later from it gets the
    caller's current one (so a setting made in a notebook between sweeps reaches the next pool)."""
    first = OwnedPool(1)  # starts the fork server, if this session has none yet
    first.stop()
    monkeypatch.setenv("IGFSIM_TEST_SETTING", "set after the server started")
    owned = OwnedPool(1)
    try:
        assert owned.pool.submit(_env, "IGFSIM_TEST_SETTING").result() == "set after the server started"
    finally:
        owned.stop()


# ----------------------------------------------------------------------------------- run_sweep


SCENARIO = {
    "name": "reliability",
    "title": "cixutumumab doses",
    "simulation": {"duration_min": 60, "points": 13},
    "stimulus": {"IGF1": 10},
    "readouts": ["pAkt"],
    "arms": [{"name": "control"}, {"name": "cix", "treatments": [{"drug": "cixutumumab", "dose_nM": 100}]}],
}


def _sweep(n: int) -> Sweep:
    return Sweep(
        scenario=dict(SCENARIO),
        axes=[Axis(name="dose", target="dose:cix/cixutumumab", range=(0.01, 1000), n=n, scale="log")],
        metrics=["auc"],
    )


def _children(pid: int) -> set[int]:
    """Live processes whose parent is ``pid``."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.add(int(stat.parent.name))
    return out


def _workers(pid: int) -> set[int]:
    """The pool workers of process ``pid``: its children (spawn), or its fork server's children."""
    out = set()
    for child in _children(pid):
        out |= _children(child) or {child}
    return out


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _runs_in(folder: Path) -> list[int]:
    return sorted(
        r for f in (folder / "parts").glob("part-*.parquet") for r in set(pq.read_table(f)["run"].to_pylist())
    )


@linux_only
@pytest.mark.slow
def test_a_worker_killed_mid_sweep_loses_nothing(tmp_path):
    """SIGKILL one pool worker while the sweep runs: its batch runs again on a fresh pool; every run is
    done once and equals the serial result. Before, the sweep died with a BrokenProcessPool traceback."""
    sw = _sweep(16)
    serial = run_sweep(sw, executor="serial", progress=False)
    out = tmp_path / "sw"
    killed: list[int] = []

    def killer() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            workers = _workers(os.getpid())
            parts = list((out / "parts").glob("part-*.parquet")) if (out / "parts").exists() else []
            if workers and parts:  # the pool is working: kill one worker mid-batch
                victim = max(workers)
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)
            time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    res = run_sweep(sw, n_workers=2, batch_size=1, out=out, progress=False)
    thread.join()
    assert killed, "the worker was never killed: the sweep finished too early to test anything"
    assert _runs_in(out) == list(range(16))  # nothing lost, nothing twice
    assert res.n_ok == 16
    assert res.dataset["summary"].equals(serial.dataset["summary"])


SCRIPT_ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
IGFSIM = str(Path(sys.executable).with_name("igfsim"))  # the console script, as a user runs it


def _start_cli_sweep(tmp_path: Path, n: int) -> tuple[subprocess.Popen, Path, Path]:
    spec = tmp_path / "long.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "scenario": SCENARIO,
                "axes": [{"name": "dose", "target": "dose:cix/cixutumumab", "range": [0.01, 1000], "n": n}],
                "metrics": ["auc"],
            }
        )
    )
    out = tmp_path / "out"
    cmd = [IGFSIM, "sweep", str(spec), "--out", str(out), "--workers", "2", "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=SCRIPT_ENV)
    return proc, spec, out


@contextlib.contextmanager
def _reaped(proc: subprocess.Popen):
    """The sweep process is killed and its pipes closed however the test ends (no hang on a failure)."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def _wait_for_parts(proc: subprocess.Popen, out: Path, k: int, timeout: float = 180) -> set[int]:
    """Wait until ``k`` parts are written; return the worker pids then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"the sweep ended early ({proc.returncode}): {err}")
        if (out / "parts").exists() and len(list((out / "parts").glob("part-*.parquet"))) >= k:
            workers = _workers(proc.pid)
            if len(workers) >= 2:
                return workers
        time.sleep(0.05)
    pytest.fail("no parts were written in time")


def _gone_within(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _alive(pids)


@linux_only
@pytest.mark.slow
def test_ctrl_c_keeps_finished_batches_stops_workers_and_resume_completes(tmp_path):
    """SIGINT (Ctrl-C) mid-sweep: exit 130 at once with one line (no traceback), the finished batches on
    disk, no worker left; --resume then runs exactly the missing runs. Before: a traceback after 20-34 s."""
    n = 400
    proc, spec, out = _start_cli_sweep(tmp_path, n)
    with _reaped(proc):
        workers = _wait_for_parts(proc, out, 3)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    took = time.monotonic() - sent
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted:" in err and "--resume" in err, err
    assert took < 10, f"Ctrl-C took {took:.1f} s to stop the sweep"
    assert not _gone_within(workers, 5 * PARENT_POLL_S + 5), "workers outlived the interrupted sweep"
    saved = _runs_in(out)
    assert saved and len(saved) == len(set(saved)) and len(saved) < n
    done = subprocess.run(
        [IGFSIM, "sweep", str(spec), "--out", str(out), "--resume", "--no-progress"],
        capture_output=True,
        text=True,
        env=SCRIPT_ENV,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    assert _runs_in(out) == list(range(n))  # the saved runs were not run again, the rest were


@linux_only
@pytest.mark.slow
def test_workers_exit_when_the_parent_is_killed(tmp_path):
    """SIGKILL of the sweep's own process (no chance to clean up): its workers notice within
    PARENT_POLL_S and exit. Before, they ran on (19 minutes later, still running)."""
    proc, _, out = _start_cli_sweep(tmp_path, 400)
    with _reaped(proc):
        workers = _wait_for_parts(proc, out, 1)
        proc.kill()
        proc.communicate(timeout=30)
    assert not _gone_within(workers, 5 * PARENT_POLL_S + 5), "orphaned workers are still running"
