"""Background services started by pid, recorded in pid files, stopped by that same pid.

A pid file holds the process's start time too, so a pid that the system later gives to another
program is never mistaken for ours (and never signalled).
"""

from collections.abc import Mapping, Sequence
import contextlib
from dataclasses import dataclass
import json
import os
from pathlib import Path
import signal
import subprocess
import time


@dataclass(frozen=True, kw_only=True)
class ServiceSpec:
    """How to start one service of the stack."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    cwd: Path


@dataclass(frozen=True, kw_only=True)
class RecordedProcess:
    """A service this stack started, as its pid file describes it."""

    name: str
    pid: int
    start_time: int

    def is_running(self) -> bool:
        """Still running, and still the very process we started."""
        stat = _read_stat(self.pid)
        return stat is not None and stat[1] == self.start_time and stat[0] != "Z"


def _read_stat(pid: int) -> tuple[str, int] | None:
    """The state letter and start time (clock ticks after boot) of a process, if it exists."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return None
    # The command name in parentheses may hold spaces: fields are counted after its end.
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def pid_file(run_dir: Path, name: str) -> Path:
    """Where the pid of a service is recorded."""
    return run_dir / f"{name}.pid"


def start(spec: ServiceSpec, run_dir: Path, log_dir: Path) -> RecordedProcess:
    """Start a service detached from this terminal, its output appended to its log."""
    run_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    spec.cwd.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{spec.name}.log").open("ab") as log:
        process = subprocess.Popen(  # our own programs, from the project's venv
            list(spec.argv),
            cwd=spec.cwd,
            env=dict(spec.env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with its children
        )
    stat = _read_stat(process.pid)
    record = RecordedProcess(name=spec.name, pid=process.pid, start_time=stat[1] if stat else -1)
    pid_file(run_dir, spec.name).write_text(
        json.dumps({"pid": record.pid, "start_time": record.start_time})
    )
    return record


def recorded(run_dir: Path, name: str) -> RecordedProcess | None:
    """The service's pid file, if there is one."""
    try:
        data = json.loads(pid_file(run_dir, name).read_text(encoding="utf-8"))
    except OSError, ValueError:
        return None
    return RecordedProcess(name=name, pid=int(data["pid"]), start_time=int(data["start_time"]))


def exit_code(record: RecordedProcess) -> int | None:
    """The exit status of a service that this very process started and that has ended."""
    with contextlib.suppress(ChildProcessError):
        pid, status = os.waitpid(record.pid, os.WNOHANG)
        if pid == record.pid:
            return os.waitstatus_to_exitcode(status)
    return None


def stop(record: RecordedProcess, run_dir: Path, timeout: float = 30.0) -> bool:
    """Stop a service (SIGTERM, then SIGKILL after the timeout); True if it was running."""
    was_alive = record.is_running()
    if was_alive:
        _signal_group(record, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while record.is_running() and time.monotonic() < deadline:
            exit_code(record)  # reaps it when we are its parent (the e2e fixture's case)
            time.sleep(0.1)
        if record.is_running():
            _signal_group(record, signal.SIGKILL)
            while record.is_running() and time.monotonic() < deadline + 5:
                exit_code(record)
                time.sleep(0.1)
    pid_file(run_dir, record.name).unlink(missing_ok=True)
    return was_alive


def _signal_group(record: RecordedProcess, signum: signal.Signals) -> None:
    # The service leads its own process group (start_new_session): its pid is the group's id.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(record.pid, signum)
