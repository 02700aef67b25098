"""When the database itself fails (a full disk, a read-only folder, corrupt pages, a killed
connection, a lost file) or is busy (a slow writer, ten first uses at once): one clear line,
exit code 2, no traceback, no SQL, and nothing half-written. Real files, a real server."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import create_engine, text

from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition
from samverkan.store.database import head_revision
from tests.cli_helpers import run_cli
from tests.databases import POSTGRES_URL, dump, postgres_schema
from tests.drive import history_yaml, planned_steps

DIRECTOR = "direktor@region-vasterbotten.example.org"
SAMVERKAN = Path(sys.executable).with_name("samverkan")
ADOPT = ["transition", "vb", "adoption", "--party", "skelleftea", "--to", "adopted", "--at", "2026-11-20",
         "--reference", "§187", "--field", "decision_date=2026-11-20", "--field", "decision_body=Kommunfullmäktige",
         "--field", "agreement_outcome=antagen", "--field", "contract_outcome=antaget"]
SQL_WORDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "[SQL", "[parameters")


def point_at(monkeypatch, url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", url)
    monkeypatch.setenv("SAMVERKAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-11-22T10:00:00")
    for name in ("SAMVERKAN_TOKEN", "SAMVERKAN_ACTOR", "SAMVERKAN_TEST_CRASH_AT", "SAMVERKAN_TEST_PAUSE_AT"):
        monkeypatch.delenv(name, raising=False)


def adoption_phase(capsys, tmp_path: Path) -> list[str]:
    """An instance `vb` with everything before adoption done; the director's credentials."""
    definition = load_definition(DEFAULT_DEFINITION).definition
    steps = [s for s in planned_steps(definition) if s.day <= pendulum.date(2026, 10, 15)]
    (tmp_path / "history.yaml").write_text(history_yaml(steps), encoding="utf-8")
    started = run_cli(capsys, "start", DEFAULT_DEFINITION, "--history", tmp_path / "history.yaml", "--instance", "vb")
    assert started.code == 0, started.err
    token = run_cli(capsys, "token", "issue", DIRECTOR, "--role", "director-office").out.strip().splitlines()[-1]
    return ["--actor", DIRECTOR, "--token", token]


def assert_one_clean_line(result, *expected: str) -> None:
    assert result.code == 2, (result.code, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fel: "), result.err
    assert any(e in lines[0] for e in expected), result.err
    assert "Traceback" not in result.err and "internal error" not in result.err
    assert not any(word in result.err for word in SQL_WORDS), result.err


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextmanager
def tmpfs(folder: Path, size: str):
    """A small file system of its own: one that can be filled, or made read-only."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs (a disk that can be filled or made read-only) needs root")
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def remount(folder: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(folder)], check=True, capture_output=True)


def fill(folder: Path) -> Path:
    """Take every byte left on the file system."""
    filler = folder / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while os.write(descriptor, b"\0" * size):
                    pass
            except OSError:
                pass
    finally:
        os.close(descriptor)
    return filler


def test_a_full_disk_is_one_line_and_changes_nothing(tmp_path, monkeypatch, capsys):
    with tmpfs(tmp_path / "disk", "32m") as disk:
        url = f"sqlite:///{disk / 'samverkan.db'}"
        point_at(monkeypatch, url, tmp_path)
        credentials = adoption_phase(capsys, tmp_path)
        before = dump(url)
        # Keep the -shm allocated and empty the WAL, so the transition's own writes hit the full disk.
        holder = sqlite3.connect(disk / "samverkan.db")
        try:
            holder.execute("SELECT count(*) FROM nodes").fetchall()
            holder.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            filler = fill(disk)
            try:
                result = run_cli(capsys, *ADOPT, *credentials)
                assert_one_clean_line(result, "is full", "disk I/O error")
                assert url in result.err
                assert run_cli(capsys, "status", "vb").code == 0  # reading needs no room
            finally:
                filler.unlink()
        finally:
            holder.close()
        assert dump(url) == before
        assert run_cli(capsys, *ADOPT, *credentials).code == 0  # room again: it works


@pytest.mark.parametrize("leftovers", ["without-wal-shm", "with-wal-shm"])
def test_a_read_only_folder_is_one_line_and_changes_nothing(tmp_path, monkeypatch, capsys, leftovers):
    with tmpfs(tmp_path / "disk", "32m") as disk:
        path = disk / "samverkan.db"
        url = f"sqlite:///{path}"
        point_at(monkeypatch, url, tmp_path)
        credentials = adoption_phase(capsys, tmp_path)
        before = dump(url)
        if leftovers == "with-wal-shm":  # what a killed process leaves behind
            subprocess.run([sys.executable, "-c", "import os, signal, sqlite3, sys\n"
                            "c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM nodes').fetchall()\n"
                            "os.kill(os.getpid(), signal.SIGKILL)", str(path)], capture_output=True)
            assert Path(f"{path}-wal").exists() and Path(f"{path}-shm").exists()
        else:
            assert not Path(f"{path}-wal").exists() and not Path(f"{path}-shm").exists()
        files = {p.name: sha256(p) for p in disk.iterdir()}
        remount(disk, "ro")
        try:
            for args in (ADOPT + credentials, ["token", "issue", "x@umea.example.org", "--role", "party-contact",
                                               "--party", "umea", *credentials]):
                assert_one_clean_line(run_cli(capsys, *args), "is read-only", "you may read and write there")
            for args in (["status", "vb"], ["audit", "vb"], ["db", "current"], ["db", "upgrade"]):
                result = run_cli(capsys, *args)
                if result.code != 0:  # reading may work or not, depending on what SQLite finds; never a mess
                    assert_one_clean_line(result, "is read-only", "you may read and write there")
            assert {p.name: sha256(p) for p in disk.iterdir()} == files
        finally:
            remount(disk, "rw")
        assert dump(url) == before


@pytest.mark.parametrize("where", ["middle", "header"])
def test_corrupt_pages_are_one_line_and_change_nothing(tmp_path, monkeypatch, capsys, where):
    path = tmp_path / "samverkan.db"
    point_at(monkeypatch, f"sqlite:///{path}", tmp_path)
    credentials = adoption_phase(capsys, tmp_path)
    size = path.stat().st_size
    with sqlite3.connect(path) as connection:
        roots = dict(connection.execute("SELECT name, rootpage FROM sqlite_master WHERE name IN ('nodes', 'transitions')"))
    connection.close()
    with open(path, "r+b") as file:
        if where == "middle":  # garbage over the first page of two tables, well inside the file
            assert all(1 < page < size // 4096 for page in roots.values()), roots
            for page in roots.values():
                file.seek((page - 1) * 4096)
                file.write(os.urandom(4096))
        else:
            file.write(os.urandom(100))  # the header
    damaged = sha256(path)
    commands = [["status", "vb"], ["audit", "vb"], ADOPT + credentials]
    for args in commands + ([["db", "current"], ["db", "upgrade"]] if where == "header" else []):
        result = run_cli(capsys, *args)
        assert_one_clean_line(result, "is damaged")
        assert "restore it from a backup" in result.err
    assert sha256(path) == damaged and path.stat().st_size == size


def test_a_connection_killed_mid_transition_is_one_line_and_changes_nothing(tmp_path, monkeypatch, capsys):
    with postgres_schema() as url:
        point_at(monkeypatch, url, tmp_path)
        credentials = adoption_phase(capsys, tmp_path)
        before = dump(url)
        pause = tmp_path / "pause"
        writer = paused(pause, "transition-flushed", ADOPT + credentials)
        try:
            backend = int(wait_for(pause, 1)[0])
            admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend}).scalar()
            admin.dispose()
            pause.unlink()
            _, err = writer.communicate(timeout=60)
        finally:
            stop(writer)
        result = type("Result", (), {"code": writer.returncode, "err": err})
        assert_one_clean_line(result, "lost the connection to the database")
        assert "postgresql" in err
        assert dump(url) == before


def paused(pause: Path, point: str, args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "SAMVERKAN_TEST_PAUSE_AT": point, "SAMVERKAN_TEST_PAUSE_FILE": str(pause)}
    return subprocess.Popen([SAMVERKAN, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(pause: Path, count: int, limit: float = 60) -> list[str]:
    """The lines of the pause file once `count` processes have reached the pause point."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if pause.exists():
            lines = pause.read_text(encoding="utf-8").splitlines()
            if len(lines) >= count:
                return lines
        time.sleep(0.02)
    raise AssertionError(f"{count} processes did not reach the pause point within {limit} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)


def test_reads_do_not_wait_for_a_writer(cli_env, tmp_path, capsys):
    """A transition paused mid-way holds the write lock (SQLite) and the instance's row lock
    (PostgreSQL) for up to two minutes; the reads answer at once, from the last commit."""
    credentials = adoption_phase(capsys, tmp_path)
    before = dump(cli_env)
    pause = tmp_path / "pause"
    writer = paused(pause, "transition-flushed", ADOPT + credentials)
    try:
        wait_for(pause, 1)
        started = time.monotonic()
        status = run_cli(capsys, "status", "vb", "--json")
        elapsed = time.monotonic() - started
        audit = run_cli(capsys, "audit", "vb", "--format", "csv")
        plan = run_cli(capsys, "plan", "--instance", "vb")
        current = run_cli(capsys, "db", "current")
        assert writer.poll() is None, "the writer must still hold its lock"
    finally:
        stop(writer)
    print(f"status answered in {elapsed:.2f} s while a writer held the lock")
    assert status.code == 0 and audit.code == 0 and plan.code == 0 and current.code == 0, (status.err, audit.err, plan.err, current.err)
    assert '"state": "adopted"' not in status.out  # the uncommitted transition is not seen
    assert elapsed < 10  # far below the 30 s a lock wait would take
    assert dump(cli_env) == before


def test_ten_first_uses_at_once_all_succeed(cli_env, tmp_path, capsys):
    """Ten `status` on an empty database, released together: each migrates or waits for the
    one that does; none fails."""
    pause = tmp_path / "pause"
    processes = [paused(pause, "database-opening", ["status"]) for _ in range(10)]
    try:
        wait_for(pause, 10, limit=120)
        pause.unlink()
        results = [(p.wait(timeout=120), p.stderr.read()) for p in processes]
    finally:
        for process in processes:
            stop(process)
            process.stdout.close()
            process.stderr.close()
    expected = "fel: det finns ingen processinstans ännu; starta en med `samverkan start PATH`\n"
    assert results == [(2, expected)] * 10
    assert f"at {head_revision()}, newest" in run_cli(capsys, "db", "current").out


def test_a_crash_mid_migration_leaves_nothing_half_created(cli_env, capsys):
    env = {**os.environ, "SAMVERKAN_TEST_CRASH_AT": "migration-step-applied"}
    done = subprocess.run([SAMVERKAN, "status"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert dump(cli_env) == {}  # not even the first step's tables
    assert "at empty" in run_cli(capsys, "db", "current").out
    assert "ingen processinstans ännu" in run_cli(capsys, "status").err
    assert f"at {head_revision()}, newest" in run_cli(capsys, "db", "current").out


def test_an_empty_database_file_is_refused_loudly(tmp_path, monkeypatch, capsys):
    path = tmp_path / "home" / "samverkan.db"
    point_at(monkeypatch, f"sqlite:///{path}", tmp_path)
    monkeypatch.delenv("SAMVERKAN_DATABASE_URL")  # the default: SAMVERKAN_HOME/samverkan.db
    first = run_cli(capsys, "status")  # a file that does not exist yet: a first use, no warning
    assert first.err == "fel: det finns ingen processinstans ännu; starta en med `samverkan start PATH`\n"
    assert run_cli(capsys, "start", DEFAULT_DEFINITION).code == 0
    path.write_bytes(b"")  # the record is gone
    problem = f"the database {path} is empty (0 bytes): the record it held is lost; restore it from a backup"
    for args in (["status"], ["start", DEFAULT_DEFINITION], ["token", "issue", DIRECTOR, "--role", "director-office"]):
        result = run_cli(capsys, *args)
        assert_one_clean_line(result, problem)
        assert path.stat().st_size == 0
    current = run_cli(capsys, "db", "current")
    assert current.code == 0 and current.err.startswith(f"warning: {problem}") and "at empty" in current.out
    assert path.stat().st_size == 0  # a report changes nothing
    upgraded = run_cli(capsys, "db", "upgrade")  # the confirmation: start again with an empty database
    assert upgraded.code == 0 and upgraded.err.startswith("warning: ") and str(path) in upgraded.err
    assert "empty -> " in upgraded.out
    assert run_cli(capsys, "status").err.startswith("fel: det finns ingen processinstans ännu")
