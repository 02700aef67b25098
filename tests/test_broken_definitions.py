"""Broken process definitions: every one must be refused by `samverkan validate` with exit code
2 and one `error: FILE:LINE: field: message` line per problem on standard error, never a
traceback.

The corpus is `tests/broken_definitions/NN_name.yaml`: each is `valid_minimal.yaml` with one kind
of defect, and says in its leading comments what the output must hold:

    # expect: <text>     the error output contains this text (one or more such lines)
    # line: N            an error points at line N of the file (`FILE:N:`)
    # problems: N        exactly N error lines (default 1: one defect, one report)
    # absent: <text>     no error line contains this text

Cases that would be big, binary or not a file at all are made at test time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from samverkan.cli import main

CORPUS = Path(__file__).parent / "broken_definitions"
VALID = CORPUS / "valid_minimal.yaml"
CORPUS_FILES = sorted(CORPUS.glob("[0-9][0-9]_*.yaml"))
SAMVERKAN = Path(sys.executable).parent / "samverkan"


@dataclass
class Expectation:
    expect: list[str] = field(default_factory=list)
    line: int | None = None
    problems: int = 1
    absent: list[str] = field(default_factory=list)


def read_expectation(path: Path) -> Expectation:
    result = Expectation()
    for text in path.read_text(encoding="utf-8").splitlines():
        if not text.startswith("#"):
            break
        key, _, value = text.removeprefix("#").strip().partition(":")
        value = value.strip()
        if key == "expect":
            result.expect.append(value)
        elif key == "line":
            result.line = int(value)
        elif key == "problems":
            result.problems = int(value)
        elif key == "absent":
            result.absent.append(value)
    return result


def run_validate(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int | str | None, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", *map(str, paths)])
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def assert_refused(code: int | str | None, stdout: str, stderr: str, path: Path, expectation: Expectation) -> None:
    lines = error_lines(stderr)
    assert code == 2, stderr
    assert stdout == ""
    assert lines, "no error reported"
    for line in lines:
        assert line.startswith(f"fel: {path}"), line  # `error: FILE…`, one line per problem
        assert "Traceback" not in line, stderr
        assert "internal error" not in line, stderr
        # pydantic's internals must not leak into what a person reads
        for leak in ("Value error,", "constrained-", "literal[", "datetime.date(", "function-after"):
            assert leak not in line, line
    for text in expectation.expect:
        assert text in stderr, f"{text!r} not in:\n{stderr}"
    if expectation.line is not None:
        assert f"{path}:{expectation.line}:" in stderr, f"line {expectation.line} not in:\n{stderr}"
    assert len(lines) == expectation.problems, stderr
    for text in expectation.absent:
        assert text not in stderr, f"{text!r} in:\n{stderr}"


def test_corpus_is_large_enough_and_well_formed() -> None:
    assert len(CORPUS_FILES) >= 40
    numbers = [path.name[:2] for path in CORPUS_FILES]
    assert len(numbers) == len(set(numbers)), "two corpus files share a number"
    for path in CORPUS_FILES:
        assert path.read_text(encoding="utf-8").startswith("# expect: "), path.name
        assert read_expectation(path).expect, path.name


def test_the_skeleton_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    """Each broken file is this one with one defect, so this one must pass."""
    code, stdout, stderr = run_validate(capsys, VALID)
    assert (code, stderr) == (0, "")
    assert f"{VALID}: giltig: mini-process version 1" in stdout


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.stem)
def test_broken_definition_is_refused(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert_refused(*run_validate(capsys, path), path, read_expectation(path))


# --- cases made at test time ------------------------------------------------------------------


def _valid_text() -> str:
    return VALID.read_text(encoding="utf-8")


def _line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


def _too_big(tmp_path: Path) -> tuple[Path, Expectation]:
    path = tmp_path / "too_big.yaml"
    path.write_bytes(_valid_text().encode() + b"# " + b"x" * (1024 * 1024) + b"\n")
    return path, Expectation(["file is larger than the limit of 1 MiB"])


def _latin1(tmp_path: Path) -> tuple[Path, Expectation]:
    path = tmp_path / "latin1.yaml"
    text = _valid_text()
    path.write_bytes(text.encode("utf-8").replace("Umeå".encode(), b"Ume\xe5"))
    return path, Expectation(["not valid UTF-8", "byte 0xe5", "save the file as UTF-8"], line=_line_of(text, "Umeå"))


def _nul_byte(tmp_path: Path) -> tuple[Path, Expectation]:
    path = tmp_path / "nul.yaml"
    text = _valid_text().replace("name: Utkast", "name: Utk\x00ast")
    path.write_bytes(text.encode("utf-8"))
    return path, Expectation(["NUL byte"], line=_line_of(text, "\x00"))


def _billion_laughs(tmp_path: Path) -> tuple[Path, Expectation]:
    path = tmp_path / "laughs.yaml"
    lines = ["format: samverkan/v1", "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 10)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, Expectation(["the YAML is too large or nests too deep", "aliases that expand too far?"])


def _long_alias(tmp_path: Path) -> tuple[Path, Expectation]:
    path = tmp_path / "long_alias.yaml"
    text = 'format: samverkan/v1\nx: &a "' + "x" * 900_000 + '"\ny:\n'
    text += "  - *a\n" * ((1024 * 1024 - len(text) - 20) // 7)
    path.write_text(text, encoding="utf-8")
    return path, Expectation(["4 MiB of text", "aliases that expand too far?"])


def _deep_nesting(tmp_path: Path) -> tuple[Path, Expectation]:
    path = tmp_path / "deep.yaml"
    path.write_text("stages: " + "[" * 10_000 + "]" * 10_000 + "\n", encoding="utf-8")
    return path, Expectation(["nests too deep"])


def _deep_block_nesting(tmp_path: Path) -> tuple[Path, Expectation]:
    path = tmp_path / "deep_block.yaml"
    path.write_text("".join("  " * depth + "- stages:\n" for depth in range(200)), encoding="utf-8")
    return path, Expectation(["nests too deep"])


def _empty(tmp_path: Path) -> tuple[Path, Expectation]:
    path = tmp_path / "empty.yaml"
    path.write_bytes(b"")
    return path, Expectation(["the file is empty"])


def _directory(tmp_path: Path) -> tuple[Path, Expectation]:
    path = tmp_path / "a-folder.yaml"
    path.mkdir()
    return path, Expectation(["is a folder, not a process definition"])


def _missing(tmp_path: Path) -> tuple[Path, Expectation]:
    return tmp_path / "missing.yaml", Expectation(["no such file"])


def _endless_device(tmp_path: Path) -> tuple[Path, Expectation]:
    path = tmp_path / "zero.yaml"
    path.symlink_to("/dev/zero")  # read whole, it would never end
    return path, Expectation(["is not a regular file"])


def _fifo(tmp_path: Path) -> tuple[Path, Expectation]:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)  # opened for reading, it would wait for a writer forever
    return path, Expectation(["is not a regular file"])


GENERATED = [_endless_device, _fifo, _too_big, _latin1, _nul_byte, _billion_laughs, _long_alias, _deep_nesting, _deep_block_nesting, _empty, _directory, _missing]


@pytest.mark.parametrize("make", GENERATED, ids=lambda f: f.__name__.strip("_"))
def test_generated_broken_input_is_refused(make, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, expectation = make(tmp_path)
    assert_refused(*run_validate(capsys, path), path, expectation)


# --- the command as installed, several files, several defects ----------------------------------


@pytest.mark.parametrize("name", ["05_yaml_unterminated_quote", "31_dependency_cycle", "40_date_outside_calendar"])
def test_console_script_exits_2(name: str) -> None:
    path = CORPUS / f"{name}.yaml"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run(
        [str(SAMVERKAN), "validate", str(path)], capture_output=True, text=True, encoding="utf-8", env=env, timeout=60
    )
    assert_refused(result.returncode, result.stdout, result.stderr, path, read_expectation(path))


def test_good_and_broken_files_are_both_reported(capsys: pytest.CaptureFixture[str]) -> None:
    broken = CORPUS / "29_depends_on_unknown_stage.yaml"
    missing = CORPUS / "no-such-definition.yaml"
    code, stdout, stderr = run_validate(capsys, VALID, broken, missing)
    assert code == 2
    assert stdout.splitlines() == [f"{VALID}: giltig: mini-process version 1, 3 steg, 2 grenar, 3 parter"]
    lines = error_lines(stderr)
    assert len(lines) == 2, stderr
    assert lines[0].startswith(f"fel: {broken}:") and "unknown stage 'draftin'" in lines[0]
    assert lines[1] == f"fel: {missing}: no such file"


def _with(text: str, *replacements: str) -> str:
    for old, new in zip(replacements[::2], replacements[1::2]):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


THREE_DEFECTS = {
    "across-the-document": (
        (
            "depends_on: [drafting]", "depends_on: [draftin]",
            "    owner: region\n    responsible_role: director-office\n    depends_on: [decision]",
            "    owner: regoin\n    responsible_role: director-office\n    depends_on: [decision]",
            "end: 2026-03-27", "end: 2025-12-01",
        ),
        ["unknown stage 'draftin'", "unknown party 'regoin'", "ends (2025-12-01) before it starts (2026-01-12)"],
    ),
    "field-by-field": (
        (
            "ks@umea.example.org", "ks@umea",
            "duration: P6W", "duration: P8X",
            "    depends_on: [decision]\n", "    depend_on: [decision]\n",
        ),
        ["malformed e-mail address 'ks@umea'", "invalid period 'P8X'", "stages[signing].depend_on: unknown field"],
    ),
    "in-separate-lifecycles": (
        (
            "lifecycles:\n",
            "lifecycles:\n  - id: other\n    name: Annan\n    states:\n      - {id: waiting, name: Väntar, kind: waiting}\n"
            "      - {id: ready, name: Redo, kind: ready}\n      - {id: done, name: Klart, kind: done}\n"
            "    transitions:\n      - {from: ready, to: dnoe}\n",
            "      - {id: done, name: Klart, kind: done}\n    transitions:\n      - {from: ready, to: done, name: Markera",
            "      - {id: done, name: Klart, kind: done}\n      - {id: cancelled, name: Avbruten, kind: failed}\n"
            "    transitions:\n      - {from: ready, to: done, name: Markera",
            "period: {start: 2027-01-01, end: 2030-12-31}", "period: {start: 2030-12-31, end: 2027-01-01}",
        ),
        ["lifecycles[other].transitions[0].to: unknown state 'dnoe'", "lifecycles[task].states[cancelled]: state 'cancelled' can never be reached",
         "period: ends (2027-01-01) before it starts (2030-12-31)"],
    ),
}


@pytest.mark.parametrize("kind", THREE_DEFECTS)
def test_three_defects_are_reported_at_once(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    replacements, expected = THREE_DEFECTS[kind]
    path = tmp_path / "three.yaml"
    path.write_text(_with(_valid_text(), *replacements), encoding="utf-8")
    code, stdout, stderr = run_validate(capsys, path)
    assert_refused(code, stdout, stderr, path, Expectation(expected, problems=3))
    assert len({line.removeprefix(f"fel: {path}:").split(":")[0] for line in error_lines(stderr)}) == 3, stderr
