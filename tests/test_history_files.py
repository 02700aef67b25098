"""History files are read by the same bounded reader as definitions: whatever the file, one
line, exit 2, quickly, and no instance started."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from samverkan.process_definitions import DEFAULT_DEFINITION

SAMVERKAN = Path(sys.executable).with_name("samverkan")


def _zero(folder: Path) -> Path:
    (folder / "h.yaml").symlink_to("/dev/zero")  # read whole before the size check: MemoryError
    return folder / "h.yaml"


def _fifo(folder: Path) -> Path:
    os.mkfifo(folder / "h.yaml")  # opened for reading: waits for a writer forever
    return folder / "h.yaml"


def _laughs(folder: Path) -> Path:
    # ~1 KB that expands to 10^9 values (the 739 KB variant ran past 60 s and 1.6 GB).
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 10)]
    lines.append("transitions: *a9")
    (folder / "h.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "h.yaml"


def _long_alias(folder: Path) -> Path:
    # Few nodes, but one 900 KB string aliased ~25,000 times: 22 GB of text once expanded.
    body = '- &a {stage: memo, to: done, at: 2025-10-17, reason: "' + "x" * 900_000 + '"}\n'
    body += "- *a\n" * ((1024 * 1024 - len(body) - 20) // 6)
    (folder / "h.yaml").write_text("transitions:\n" + body, encoding="utf-8")
    return folder / "h.yaml"


def _deep(folder: Path) -> Path:
    (folder / "h.yaml").write_text("transitions: " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    return folder / "h.yaml"


def _deep_block(folder: Path) -> Path:
    (folder / "h.yaml").write_text("".join("  " * d + "- transitions:\n" for d in range(300)), encoding="utf-8")
    return folder / "h.yaml"


def _big(folder: Path) -> Path:
    (folder / "h.yaml").write_bytes(b"transitions: []\n#" + b"x" * (1024 * 1024) + b"\n")
    return folder / "h.yaml"


def _latin1(folder: Path) -> Path:
    (folder / "h.yaml").write_bytes(b"transitions:\n  - {stage: memo, to: done, at: 2025-10-17, reason: Ume\xe5}\n")
    return folder / "h.yaml"


def _two_documents(folder: Path) -> Path:
    (folder / "h.yaml").write_text("transitions: []\n---\ntransitions: []\n", encoding="utf-8")
    return folder / "h.yaml"


def _folder(folder: Path) -> Path:
    (folder / "h.yaml").mkdir()
    return folder / "h.yaml"


CASES = [
    (_zero, "is not a regular file"),
    (_fifo, "is not a regular file"),
    (_laughs, "aliases that expand too far?"),
    (_long_alias, "4 MiB of text"),
    (_deep, "nests too deep"),
    (_deep_block, "nests too deep"),
    (_big, "larger than the limit of 1 MiB"),
    (_latin1, "h.yaml:2: not valid UTF-8"),
    (_two_documents, "h.yaml:3: one history per file"),
    (_folder, "is a folder, not a history file"),
]


@pytest.mark.parametrize(("make", "message"), CASES, ids=[c[0].__name__.strip("_") for c in CASES])
def test_a_hostile_history_file_is_one_line_and_starts_nothing(tmp_path, make, message):
    env = {**os.environ, "SAMVERKAN_HOME": str(tmp_path / "home"), "SAMVERKAN_NOW": "2026-11-22T10:00"}
    env.pop("SAMVERKAN_DATABASE_URL", None)
    history = make(tmp_path)
    # The timeout detects a hang; a correct refusal takes well under a second.
    done = subprocess.run([SAMVERKAN, "start", DEFAULT_DEFINITION, "--history", history],
                          capture_output=True, text=True, env=env, timeout=60)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and message in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    status = subprocess.run([SAMVERKAN, "status"], capture_output=True, text=True, env=env, timeout=60)
    assert status.returncode == 2 and "det finns ingen processinstans ännu" in status.stderr


@pytest.mark.parametrize("command", [["validate"], ["plan"], ["start", str(DEFAULT_DEFINITION), "--history"]])
def test_a_long_path_is_shown_by_its_end_and_the_reason_survives(tmp_path, command):
    env = {**os.environ, "SAMVERKAN_HOME": str(tmp_path / "home"), "SAMVERKAN_NOW": "2026-11-22T10:00"}
    env.pop("SAMVERKAN_DATABASE_URL", None)
    path = tmp_path.joinpath(*["a" * 200] * 15)  # 3,000 characters, each folder name within the limit
    done = subprocess.run([SAMVERKAN, *command, path], capture_output=True, text=True, env=env, timeout=60)
    [line] = done.stderr.splitlines()
    assert done.returncode == 2 and line.endswith("a: no such file") and len(line) < 200, line
