"""Free text for the public record passes one gate, whichever door it comes through (the
engine's): no control characters, no bidirectional overrides, no personal token in any
spelling. And a token is masked in every echo however it is spelled."""

from __future__ import annotations

import base64
import hashlib
import json

import pendulum
import pytest

from samverkan.auth import new_token
from samverkan.engine import TransitionRefused, TransitionRequest, decide
from samverkan.text import looks_like_token, mask_tokens, safe_line, shown
from tests.cli_helpers import run_cli
from tests.test_engine import started
from tests.conftest import small_definition
from tests.test_store_safety import ADOPT, adoption_phase, credentials  # noqa: F401 - fixture

# Shaped as auth.new_token makes them, but the same in every test process (xdist collects
# each worker's parameters and they must agree).
TOKEN = "svk_" + base64.urlsafe_b64encode(hashlib.sha256(b"samverkan test token").digest()).decode().rstrip("=")
SPELLINGS = [TOKEN, "SVK_" + TOKEN[4:], "Svk_" + TOKEN[4:], TOKEN[4:], f"koden är {TOKEN[4:]}."]


def test_the_test_token_is_shaped_like_a_real_one():
    assert len(TOKEN) == len(new_token()) and TOKEN.startswith("svk_")


@pytest.mark.parametrize("text", SPELLINGS, ids=["svk", "SVK", "Svk", "body", "in-prose"])
def test_a_token_is_recognised_and_masked_however_it_is_spelled(text):
    assert looks_like_token(text)
    for echoed in (mask_tokens(text), shown(text, 200), safe_line(text)):
        assert TOKEN[4:] not in echoed and TOKEN[4:20] not in echoed, echoed


@pytest.mark.parametrize("text", ["0b6c1a52-6f0e-4d1a-9c3b-2f1e7c1a9b00", "samverkan-2027-2030-oversikt-adoption-umea",
                                  "Kommunfullmäktige §187 2026-11-20", "/tmp/pytest-of-root/pytest-12/test_x0/home"])
def test_ids_paths_and_prose_are_not_taken_for_tokens(text):
    assert not looks_like_token(text) and mask_tokens(text) == text


def _request(**changes) -> TransitionRequest:
    base = dict(stage="first", party=None, to="done", at=pendulum.datetime(2026, 3, 2, tz="Europe/Stockholm"))
    return TransitionRequest(**{**base, **changes})


@pytest.mark.parametrize(("changes", "said"), [
    ({"reason": f"min kod: {TOKEN}"}, "--reason: det ser ut som en personlig kod"),
    ({"reason": TOKEN[4:]}, "--reason: det ser ut som en personlig kod"),
    ({"reason": "rött \x1b[31m"}, "--reason: innehåller ett styrtecken eller osynligt tecken (\\x1b, tecken 6)"),
    ({"reason": "rad ett\r\nrad två"}, "--reason: innehåller ett styrtecken"),
    ({"reason": "ljud\x07"}, "--reason: innehåller ett styrtecken"),
    ({"reason": "abc\u202edef"}, "--reason: innehåller ett styrtecken eller osynligt tecken (\\u202e"),
    ({"reference": "§1\x00"}, "--reference: innehåller ett styrtecken"),
    ({"fields": {"paragraph": "§1\x1b]0;x\x07"}}, "--field paragraph: innehåller ett styrtecken"),
])
def test_the_engine_refuses_free_text_that_may_not_enter_the_record(changes, said):
    definition = small_definition()
    with pytest.raises(TransitionRefused) as refused:
        decide(definition, started(definition), _request(**changes), pendulum.datetime(2026, 4, 1, tz="Europe/Stockholm"))
    assert said in str(refused.value) and TOKEN[4:] not in str(refused.value)


def test_plain_swedish_text_passes_the_gate():
    definition = small_definition()
    changes = decide(definition, started(definition), _request(reason="Beslutat i KF, justerat 2026-03-05 — se §12 (Åsele)."),
                     pendulum.datetime(2026, 4, 1, tz="Europe/Stockholm"))
    assert changes[0].after.state == "done"


def test_a_token_in_the_commands_comment_is_refused_and_nothing_recorded(adoption_phase, capsys):  # noqa: F811
    before = run_cli(capsys, "audit", "vb", "--format", "json").out
    for reason in (adoption_phase["token"], "SVK_" + adoption_phase["token"][4:], adoption_phase["token"][4:]):
        result = run_cli(capsys, *ADOPT, *credentials(adoption_phase), "--reason", f"kod {reason}")
        assert result.code == 2 and "det ser ut som en personlig kod" in result.err, result.err
        assert adoption_phase["token"][4:20] not in result.err + result.out
    assert run_cli(capsys, "audit", "vb", "--format", "json").out == before
    assert json.loads(before)["transitions"]


def test_the_audit_export_cannot_drive_a_terminal_or_a_spreadsheet(adoption_phase, capsys):  # noqa: F811
    """Text stored before the gate existed (or by any other way in) is escaped on the way out."""
    from sqlalchemy import create_engine, text

    assert run_cli(capsys, *ADOPT, *credentials(adoption_phase), "--reason", "beslutat").code == 0
    engine = create_engine(adoption_phase["url"])
    with engine.begin() as connection:
        connection.execute(text("UPDATE transitions SET reason = :evil WHERE reason = 'beslutat'"),
                           {"evil": "rött\x1b[31m\x07 ny\r\nrad \u202eåt vänster " + TOKEN})
    engine.dispose()
    for fmt in ("csv", "json"):
        out = run_cli(capsys, "audit", "vb", "--format", fmt).out
        assert not any(c in out for c in ("\x1b", "\x07", "\r", "\u202e")) and TOKEN[4:] not in out, fmt
        assert "\\x1b[31m" in out or "\\\\x1b[31m" in out, fmt


def test_a_scenario_name_with_an_escape_sequence_is_refused_before_anything_is_printed(tmp_path, capsys, monkeypatch):
    from samverkan.process_definitions import DEFAULT_DEFINITION

    monkeypatch.setenv("SAMVERKAN_HOME", str(tmp_path / "home"))
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text('name: "Sent \\e]0;hack\\a"\n', encoding="utf-8")
    result = run_cli(capsys, "simulate", DEFAULT_DEFINITION, "--scenario", scenario, "--until", "2026-01-01")
    assert result.code == 2 and "name: must be a line of text, without control characters" in result.err
    assert "\x1b" not in result.out + result.err and "\x07" not in result.out + result.err
