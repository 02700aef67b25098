"""An error echoes little of what was typed: a short prefix, never a token, never a byte that
cannot be printed; and the command line's last defence holds for messages from elsewhere."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from samverkan.process_definitions import DEFAULT_DEFINITION
from samverkan import text
from tests.cli_helpers import run_cli

SAMVERKAN = Path(sys.executable).with_name("samverkan")
HUGE = "x" * 120_000
TOKEN = "svk_" + "Q7s-_" * 8 + "abc"  # the shape auth.new_token makes: 43 urlsafe characters
DIRECTOR = "direktor@region-vasterbotten.example.org"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """The command line on an empty embedded database of its own."""
    monkeypatch.setenv("SAMVERKAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-11-22T10:00:00")
    for name in ("SAMVERKAN_DATABASE_URL", "SAMVERKAN_TOKEN", "SAMVERKAN_ACTOR", "SAMVERKAN_TEST_CRASH_AT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


def short_line(code: int, err: str, message: str, limit: int = 200) -> str:
    assert code == 2, (code, err[:300])
    lines = err.strip().splitlines()
    assert len(lines) == 1, err[:300]
    assert len(lines[0]) <= limit, lines[0][:300]
    assert message in lines[0], lines[0]
    assert TOKEN not in err and TOKEN[:20] not in err and "Traceback" not in err
    return lines[0]


def test_shown_is_a_short_masked_printable_prefix():
    shown = text.shown
    assert shown("vb\n") == "'vb\\n'"
    assert shown(HUGE) == "'" + "x" * 60 + "…'"
    assert shown(TOKEN) == "'svk_…(dold)'"
    assert shown(f"a {TOKEN} b") == "'a svk_…(dold) b'"
    assert shown("x\udcff") == "'x\\xff'"  # the byte typed, as a non-UTF-8 argv byte arrives
    assert shown("\x1b[31m\u202e") == "'\\x1b[31m\\u202e'"
    assert shown("it's") == '"it\'s"' and shown("a\\b") == "'a\\\\b'" and shown("Umeå §7") == "'Umeå §7'"


def test_safe_line_caps_masks_and_escapes():
    line = text.safe_line(f"fel: {TOKEN} x\udcff\n\x1b" + HUGE)
    assert line.startswith("fel: svk_…(dold) x\\xff\\n\\x1b") and len(line) == 500
    line.encode("utf-8")  # no lone surrogate is left


NAMED = {
    "--role": (["token", "issue", "x@umea.example.org", "--role"], "--role: "),
    "--format": (["audit", "--format"], "--format: "),
    "PERIOD": (["calendar", "due", "2026-01-01"], "PERIOD: invalid period "),
    "plan --instance": (["plan", "--instance"], "--instance: "),
}


@pytest.mark.parametrize("value", [HUGE, TOKEN, f"{TOKEN}{HUGE}"], ids=["huge", "token", "token-then-huge"])
@pytest.mark.parametrize("case", NAMED)
def test_named_options_echo_a_short_masked_prefix(home, capsys, case, value):
    args, message = NAMED[case]
    result = run_cli(capsys, *args, value)
    short_line(result.code, result.err, message)
    assert result.out == ""
    assert not home.exists()  # refused before the database was even opened


def test_a_token_given_as_actor_or_state_is_not_repeated(home, capsys):
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--instance", "vb").code == 0
    issued = run_cli(capsys, "token", "issue", DIRECTOR, "--role", "director-office")
    real = issued.out.strip().splitlines()[-1]
    memo = ["transition", "vb", "memo", "--at", "2025-10-17"]
    result = run_cli(capsys, *memo, "--to", "done", "--actor", TOKEN, "--token", real)
    short_line(result.code, result.err, "--actor: 'svk_…(dold)' är ingen giltig e-postadress")
    result = run_cli(capsys, *memo, "--to", TOKEN, "--actor", DIRECTOR, "--token", real)
    short_line(result.code, result.err, "'svk_…(dold)' är inget läge i det här steget")
    assert real not in result.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus" + HUGE], "fel: No such option: --bogusxxx"),  # typer's own message
        ([TOKEN], "fel: No such command 'svk_…(dold)'"),
    ],
)
def test_messages_from_elsewhere_are_capped_masked_and_escaped(home, capsys, args, message):
    result = run_cli(capsys, *args)
    short_line(result.code, result.err, message, limit=500)


def test_control_characters_in_a_message_are_escaped(home, capsys, monkeypatch, tmp_path):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("SAMVERKAN_HOME", str(tmp_path / "file" / "\x1b]0;owned\x07\x1b[2J"))  # a terminal's title, cleared
    result = run_cli(capsys, "status")
    line = short_line(result.code, result.err, "\\x1b]0;owned\\x07\\x1b[2J: cannot create the folder")
    assert "\x1b" not in line and "\x07" not in line


BYTES = [
    (["token", "issue", "x@umea.example.org", "--role"], "fel: --role: 'x\\xff' är inte ett av: "),
    (["audit", "--format"], "fel: --format: 'x\\xff' är varken csv eller json"),
    (["calendar", "due", "2026-01-01"], "fel: PERIOD: invalid period 'x\\xff': "),
    (["plan", "--instance"], "fel: --instance: är inte giltig UTF-8-text (vid tecken 2)"),
]


def test_non_utf8_bytes_on_the_real_command_line_are_shown_as_escapes(home):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}  # stderr strict: an unescaped byte would raise
    runs = [(subprocess.Popen([os.fsencode(SAMVERKAN), *map(os.fsencode, args), b"x\xff"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE), message) for args, message in BYTES]
    for process, message in runs:
        out, err = process.communicate(timeout=120)
        line = short_line(process.returncode, err.decode("utf-8"), message)
        assert line.startswith(message) and out == b""
    assert not home.exists()
