"""`samverkan sweep` and `samverkan outbox` at the command line: a live store sends only at
the real time, a dry run changes nothing, and bad input is one line with exit code 2."""

from __future__ import annotations

import pytest

from samverkan.process_definitions import DEFAULT_DEFINITION

from tests.cli_helpers import run_cli
from tests.databases import dump


@pytest.fixture
def live_store(cli_env, capsys, monkeypatch):
    monkeypatch.delenv("SAMVERKAN_NOW")
    for name in ("HOST", "PORT", "SECURITY", "FROM", "USERNAME", "PASSWORD"):
        monkeypatch.delenv(f"SAMVERKAN_SMTP_{name}", raising=False)
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--instance", "vb").code == 0
    return cli_env


def test_a_live_store_refuses_another_time_but_a_dry_run_may_look(live_store, capsys):
    before = dump(live_store)
    refused = run_cli(capsys, "sweep", "--now", "2026-12-16T08:00")
    assert refused.code == 2 and refused.err.count("\n") == 1 and "det verkliga diariet" in refused.err
    looked = run_cli(capsys, "sweep", "--now", "2026-12-16T08:00", "--dry-run")
    assert looked.code == 0 and "Torrkörning 2026-12-16 08:00" in looked.out and "nya utskick skulle köas" in looked.out
    assert "utvecklingsdirektor@region-vasterbotten.example.org" in looked.out
    assert dump(live_store) == before  # nothing changed


def test_bad_input_is_one_line_and_changes_nothing(live_store, capsys):
    before = dump(live_store)
    for args, needle in [
        (("outbox", "--state", "lost"), "--state: 'lost' är inte ett av: queued, sending, sent, failed, cancelled"),
        (("outbox", "nobody"), "okänd instans 'nobody'"),
        (("sweep", "--now", "2026-13-01"), "--now: '2026-13-01' är inget datum eller klockslag"),
        (("sweep",), "SAMVERKAN_SMTP_FROM"),  # no mail server configured
    ]:
        result = run_cli(capsys, *args)
        assert result.code == 2 and result.err.count("\n") == 1 and needle in result.err, (args, result.err)
    assert dump(live_store) == before


def test_queue_only_queues_and_the_outbox_lists_it(live_store, capsys):
    queued = run_cli(capsys, "sweep", "--queue-only")
    assert queued.code == 0 and " köade, 0 skickade" in queued.out
    listing = run_cli(capsys, "outbox", "vb", "--state", "queued", "--limit", "5")
    assert listing.code == 0 and listing.out.count("köad") >= 5 and "Totalt:" in listing.out
    status = run_cli(capsys, "status", "vb", "--json")
    assert '"queued"' in status.out
