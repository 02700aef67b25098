"""Bad input of every kind: one clear line per problem, exit code 2, nothing changed, never a
traceback; on SQLite and PostgreSQL alike."""

import csv
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DataError

from samverkan.process_definitions import DEFAULT_DEFINITION
from samverkan.actors import issue_token
from samverkan.auth import Actor, Grant, GrantRole, may_start
from samverkan.cli.instance_commands import _no_formula as _inert
from samverkan.clock import FixedClock, parse_day, parse_moment
from samverkan.errors import SamverkanError
from samverkan.store.database import Database, make_engine
from tests.cli_helpers import run_cli
from tests.databases import dump

DIRECTOR = "direktor@region-vasterbotten.example.org"
SAMVERKAN = Path(sys.executable).with_name("samverkan")


def one_line(result, message):
    assert result.code == 2, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.err
    assert "Traceback" not in result.err and "internal error" not in result.err


# 1. One strict parser for days and moments.

STOCKHOLM = "Europe/Stockholm"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-19", pendulum.datetime(2026, 11, 19, tz=STOCKHOLM)),
        ("2026-11-19T10:00", pendulum.datetime(2026, 11, 19, 10, tz=STOCKHOLM)),
        ("2026-11-19T10:00:30", pendulum.datetime(2026, 11, 19, 10, 0, 30, tz=STOCKHOLM)),
        ("2026-11-19T10:00Z", pendulum.datetime(2026, 11, 19, 10, tz="UTC")),
        ("2026-11-19T10:00:00+05:30", pendulum.datetime(2026, 11, 19, 4, 30, tz="UTC")),
        ("2026-11-19T10:00-14:00", pendulum.datetime(2026, 11, 20, 0, tz="UTC")),
        ("2026-06-19T10:00", pendulum.datetime(2026, 6, 19, 8, tz="UTC")),  # summer time
    ],
)
def test_moments_in_the_accepted_forms(text, expected):
    assert parse_moment(text, "--at") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("20260101", "'20260101' är inget datum eller klockslag"),
        ("20261119T1000", "'20261119T1000' är inget datum eller klockslag"),
        ("2026-W01-1", "'2026-W01-1' är inget datum eller klockslag"),
        ("2026-11-19T10", "'2026-11-19T10' är inget datum eller klockslag"),
        ("2026-11-19 10:00", "är inget datum eller klockslag"),
        ("2026-11-19T10:00:00.5", "är inget datum eller klockslag"),
        ("2026-11-19T24:00", "är inget datum eller klockslag"),
        ("2026-02-30", "'2026-02-30' är inget datum eller klockslag"),
        ("٢٠٢٦-11-19", "är inget datum eller klockslag"),  # non-ASCII digits
        ("2026-11-19T10:00+14:01", "+14:01 är ingen tidsskillnad mot UTC (högst ±14:00)"),
        ("2026-11-19T10:00-15:00", "-15:00 är ingen tidsskillnad mot UTC"),
        ("2026-11-19T10:00+02:60", "+02:60 är ingen tidsskillnad mot UTC"),
        ("1999-12-31T23:00", "'1999-12-31T23:00' ligger utanför åren 2000–2090"),
        ("2091-01-01", "'2091-01-01' ligger utanför åren 2000–2090"),
        ("", "'' är inget datum eller klockslag"),
    ],
)
def test_moments_in_other_forms_are_refused(text, message):
    with pytest.raises(SamverkanError) as error:
        parse_moment(text, "--at")
    assert error.value.problems == [error.value.problems[0]] and error.value.problems[0].startswith("--at: ")
    assert message in error.value.problems[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("20260101", "'20260101' är inget datum"),
        ("2026-W01-1", "'2026-W01-1' är inget datum"),
        ("2026-11-19T10:00", "'2026-11-19T10:00' är inget datum"),
        ("1900-01-01", "'1900-01-01' ligger utanför åren 2000–2090"),
        ("9999-12-31", "'9999-12-31' ligger utanför åren 2000–2090"),
    ],
)
def test_days_are_yyyy_mm_dd_within_the_calendar(text, message):
    assert parse_day("2026-12-24", "DATE") == pendulum.date(2026, 12, 24)
    with pytest.raises(SamverkanError) as error:
        parse_day(text, "DATE")
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", DEFAULT_DEFINITION, "--as-of", "20261122"], "--as-of: '20261122' är inget datum"),
        (["plan", DEFAULT_DEFINITION, "--as-of", "2026-W47-7"], "--as-of: '2026-W47-7' är inget datum"),
        (["calendar", "due", "2026-01-01", "P11Y"], "PERIOD: perioden 'P11Y' är längre än tio år"),
        (["calendar", "due", "2026-01-01", "P3661D"], "PERIOD: perioden 'P3661D' är längre än tio år"),
        # 2. calendar due never crashes
        (["calendar", "due", "1900-01-01"], "DATE: '1900-01-01' ligger utanför åren 2000–2090"),
        (["calendar", "due", "9999-12-31", "P1D"], "DATE: '9999-12-31' ligger utanför åren 2000–2090"),
        (["calendar", "due", "2026-01-01", "P99999999Y"], "PERIOD: perioden 'P99999999Y' är längre än tio år"),
        (["calendar", "due", "2026-01-01", "P1000000000000000000000000D"], "är längre än tio år"),
        (["calendar", "due", "2090-12-31", "P10Y"], "PERIOD: 2090-12-31 + P10Y: no Swedish holiday data for 2101"),
    ],
)
def test_command_line_days_and_periods(capsys, args, message):
    one_line(run_cli(capsys, *args), message)


def test_a_ten_year_period_is_still_a_period(capsys):
    assert run_cli(capsys, "calendar", "due", "2026-01-01", "P10Y").out.strip().splitlines()[-1] == "2036-01-02"


# 3. Text from the command line.


@pytest.fixture
def running(cli_env, capsys):
    """An instance `vb` of the default definition, and the director's office's token."""
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--instance", "vb").code == 0
    token = run_cli(capsys, "token", "issue", DIRECTOR, "--role", "director-office").out.strip().splitlines()[-1]
    return {"url": cli_env, "credentials": ["--actor", DIRECTOR, "--token", token]}


MEMO = ["transition", "vb", "memo", "--to", "done", "--at", "2025-10-17"]
EMAIL_255 = "a" * 243 + "@example.org"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([*MEMO, "--reason", "x\udcff"], "--reason: är inte giltig UTF-8-text (vid tecken 2)"),
        ([*MEMO, "--reason", "a\x00b"], "--reason: innehåller ett NUL-tecken"),
        ([*MEMO, "--reason", "x" * 2001], "--reason: är längre än 2000 tecken (2001)"),
        ([*MEMO, "--reference", "§" * 201], "--reference: är längre än 200 tecken"),
        ([*MEMO, "--reference", "\x00"], "--reference: innehåller ett NUL-tecken"),
        ([*MEMO, "--field", "note=" + "v" * 501], "--field note: är längre än 500 tecken"),
        ([*MEMO, "--field", "note=a\x00"], "--field note: innehåller ett NUL-tecken"),
        ([*MEMO, "--field", "n\udcffte=a"], "--field: är inte giltig UTF-8-text"),
        ([*MEMO, "--party", "p\udcff"], "--party: är inte giltig UTF-8-text"),
        ([*MEMO[:4], "d" * 64], "--to: är längre än 63 tecken"),
        (["transition", "vb", "memo\x00", "--to", "done"], "STAGE: innehåller ett NUL-tecken"),
        (["transition", "", "memo", "--to", "done"], "INSTANCE: är tomt; ange en instans"),
        (["transition", "vb\n", "memo", "--to", "done"], "INSTANCE: 'vb\\n' är inget giltigt id"),
        (["transition", "VB", "memo", "--to", "done"], "INSTANCE: 'VB' är inget giltigt id"),
        (["transition", "v" * 101, "memo", "--to", "done"], "INSTANCE: är längre än 100 tecken"),
        ([*MEMO[:6], ""], "--at: '' är inget datum eller klockslag"),
        ([*MEMO[:6], "20251017"], "--at: '20251017' är inget datum eller klockslag"),
        ([*MEMO, "--actor", EMAIL_255], "--actor: är längre än 254 tecken"),
        ([*MEMO, "--actor", DIRECTOR, "--token", "svk_\udcff"], "--token: är inte giltig UTF-8-text"),
        (["status", ""], "INSTANCE: är tomt"),
        (["status", "vb", "--as-of", ""], "--as-of: '' är inget datum eller klockslag"),
        (["audit", ""], "INSTANCE: är tomt"),
        (["audit", "a\x00"], "INSTANCE: innehåller ett NUL-tecken"),
        (["start", DEFAULT_DEFINITION, "--instance", ""], "--instance: är tomt"),
        (["start", DEFAULT_DEFINITION, "--instance", "vb2\n"], "--instance: 'vb2\\n' är inget giltigt id"),
        (["start", DEFAULT_DEFINITION, "--instance", "v" * 101], "--instance: är längre än 100 tecken"),
        (["start", "def\udcff.yaml"], "PATH: är inte giltig UTF-8-text"),
        (["start", DEFAULT_DEFINITION, "--history", "a\x00.yaml"], "Invalid value for '--history'"),
        (["token", "issue", EMAIL_255, "--role", "director-office"], "EMAIL: är längre än 254 tecken"),
        (["token", "issue", "x\x00@umea.example.org", "--role", "director-office"], "EMAIL: innehåller ett NUL-tecken"),
        (["token", "issue", "x@umea.example.org", "--role", "project-lead", "--stage", "Drafting"], "--stage: 'Drafting' är inget giltigt id"),
        (["token", "issue", "x@umea.example.org", "--role", "project-lead", "--stage", "s" * 64], "--stage: är längre än 63"),
        (["token", "issue", "x@umea.example.org", "--role", "party-contact", "--party", ""], "--party: är tomt"),
        (["token", "issue", "x@umea.example.org", "--role", "party-contact", "--party", "umea\n"], "--party: 'umea\\n' är inget giltigt id"),
        (["token", "issue", "x@umea.example.org", "--role", "director-office", "--name", "n" * 201], "--name: är längre än 200"),
        (["token", "issue", "x@umea.example.org", "--role", "director-office", "--name", "\udce5"], "--name: är inte giltig UTF-8"),
        (["token", "revoke", "x\udcff@umea.example.org"], "EMAIL: är inte giltig UTF-8-text"),
    ],
)
def test_bad_text_gets_one_line_and_changes_nothing(running, capsys, args, message):
    before = dump(running["url"])
    acts = args[0] in ("transition", "start", "token") and "--actor" not in args
    credentials = running["credentials"] if acts else []
    result = run_cli(capsys, *args, *credentials)
    one_line(result, message)
    assert result.out == ""
    assert dump(running["url"]) == before


def test_non_utf8_bytes_on_the_real_command_line(running):
    before = dump(running["url"])
    args = [os.fsencode(a) for a in [SAMVERKAN, *MEMO, *running["credentials"]]] + [b"--reason", b"x\xff"]
    done = subprocess.run(args, capture_output=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.decode().strip() == "fel: --reason: är inte giltig UTF-8-text (vid tecken 2); kontrollera teckenkodningen"
    assert dump(running["url"]) == before


def test_text_at_its_limits_is_stored_whole(running, capsys):
    reason, reference = "å" * 2000, "§" * 200
    result = run_cli(capsys, *MEMO, "--reason", reason, "--reference", reference, *running["credentials"])
    assert result.code == 0, result.err
    memo = next(t for t in json.loads(run_cli(capsys, "audit", "vb", "--format", "json").out)["transitions"]
                if t["stage"] == "memo" and not t["automatic"])
    assert (memo["reason"], memo["reference"]) == (reason, reference)


# 4. SAMVERKAN_DATABASE_URL and the database's own refusals.


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+asyncpg://u@localhost/db", "SAMVERKAN_DATABASE_URL: 'postgresql+asyncpg' is not supported"),
        ("postgresql+pg8000://u@localhost/db", "SAMVERKAN_DATABASE_URL: 'postgresql+pg8000' is not supported"),
        ("postgresql+psycopg2://u@localhost/db", "SAMVERKAN_DATABASE_URL: 'postgresql+psycopg2' is not supported"),
        ("sqlite+pysqlcipher:///x.db", "SAMVERKAN_DATABASE_URL: 'sqlite+pysqlcipher' is not supported"),
        ("mysql://u@localhost/db", "SAMVERKAN_DATABASE_URL: 'mysql' is not supported"),
        ("postgresql://u:secret@[::1", "SAMVERKAN_DATABASE_URL: not a database URL"),
        ("postgresql://u:secret@localhost:port/db", "SAMVERKAN_DATABASE_URL: not a database URL"),
        ("sqlite:///x.db?mode=ro", "SAMVERKAN_DATABASE_URL: a sqlite URL takes no options (?mode)"),
    ],
)
@pytest.mark.parametrize("command", [["status"], ["db", "current"], ["db", "upgrade"]])
def test_unsupported_or_malformed_database_urls(tmp_path, monkeypatch, capsys, url, message, command):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", url)
    result = run_cli(capsys, *command)
    one_line(result, message)
    assert "secret" not in result.err
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_an_unreachable_database_is_one_line_for_db_commands_too(monkeypatch, capsys):
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", "postgresql://u:secret@127.0.0.1:1/none")
    for command in (["db", "current"], ["db", "upgrade"]):
        result = run_cli(capsys, *command)
        one_line(result, "cannot open the database postgresql://u:***@127.0.0.1:1/none")
        assert "secret" not in result.err


@pytest.mark.parametrize("url", ["postgresql://u@localhost/db", "postgresql+psycopg://u@localhost/db"])
def test_plain_postgresql_urls_use_psycopg(url):
    engine = make_engine(url)  # connects lazily: no server needed
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_a_value_the_database_refuses_is_one_line_without_the_statement(db_url):
    database = Database(db_url)
    try:
        with pytest.raises(SamverkanError) as error:
            with database.transaction() as session:
                if session.bind.dialect.name == "postgresql":
                    session.execute(text("SELECT CAST(:value AS integer)"), {"value": "not a number"})
                else:  # SQLite refuses almost nothing; stand in for it
                    raise DataError("SELECT secret FROM somewhere", {}, ValueError("a refused value\nsecond line"))
    finally:
        database.close()
    [problem] = error.value.problems
    assert problem.startswith("the database refused a value: ")
    assert "SELECT" not in problem and "second line" not in problem


# 5. History files.


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{stage: memo, to: done, at: 2025-10-17, fields: {x: [1, 2]}}", "transitions[0].fields.x: måste vara ett enda värde"),
        ("{stage: memo, to: done, at: 2025-10-17, fields: {x: {a: 1}}}", "transitions[0].fields.x: måste vara ett enda värde"),
        ("{stage: memo, to: done, at: 2025-10-17, fields: {x: }}", "transitions[0].fields.x: måste ha ett värde"),
        ('{stage: memo, to: done, at: 2025-10-17, reason: "a\\0b"}', "transitions[0].reason: innehåller ett NUL-tecken"),
        ('{stage: memo, to: done, at: 2025-10-17, reference: "\\udcff"}', "transitions[0].reference: är inte giltig UTF-8"),
        ('{stage: memo, to: done, at: 2025-10-17, reason: "' + "r" * 2001 + '"}', "transitions[0].reason: är längre än 2000"),
        ('{stage: memo, to: done, at: 2025-10-17, reference: "' + "r" * 201 + '"}', "transitions[0].reference: är längre än 200"),
        ('{stage: memo, to: done, at: 2025-10-17, fields: {x: "' + "v" * 501 + '"}}', "transitions[0].fields.x: är längre än 500"),
        ("{stage: [memo], to: done, at: 2025-10-17}", "transitions[0].stage: måste vara ett enda värde"),
        ("{stage: memo, to: done, at: 20251017}", "transitions[0].at: måste vara ett datum eller klockslag"),
        ("{stage: memo, to: done, at: 2025-W42-5}", "transitions[0].at: '2025-W42-5' är inget datum eller klockslag"),
        ("{stage: memo, to: done, at: 1999-10-17}", "transitions[0].at: '1999-10-17' ligger utanför åren 2000–2090"),
        ("{stage: memo, to: done, at: 2025-10-17, bogus: 1}", "transitions[0].bogus: okänt fält (felstavat?)"),
        ("{stage: memo, at: 2025-10-17}", "transitions[0].to: saknas; det krävs"),
    ],
)
def test_a_bad_history_entry_is_one_line_and_starts_nothing(cli_env, capsys, tmp_path, entry, message):
    assert run_cli(capsys, "db", "upgrade").code == 0
    before = dump(cli_env)
    (tmp_path / "h.yaml").write_text(f"transitions:\n  - {entry}\n", encoding="utf-8")
    result = run_cli(capsys, "start", DEFAULT_DEFINITION, "--history", tmp_path / "h.yaml")
    one_line(result, f"h.yaml: {message}")
    for noise in ("function-before", "function-after", "Value error", "str]", "int]"):
        assert noise not in result.err
    assert dump(cli_env) == before


def test_history_scalars_are_recorded_as_text(cli_env, capsys, tmp_path):
    (tmp_path / "h.yaml").write_text(
        "transitions:\n  - {stage: memo, to: done, at: 2025-10-17T09:30, reason: 42, reference: 187}\n", encoding="utf-8")
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--history", tmp_path / "h.yaml").code == 0
    memo = next(t for t in json.loads(run_cli(capsys, "audit", "--format", "json").out)["transitions"]
                if t["stage"] == "memo" and not t["automatic"])
    assert (memo["reason"], memo["reference"]) == ("42", "187")
    assert memo["occurred_at"] == "2025-10-17T09:30:00+02:00"


# 6. Two first tokens at once: only one becomes the director's office.


def test_concurrent_first_tokens_make_exactly_one_directors_office(db_url):
    database = Database(db_url)
    now = pendulum.datetime(2026, 11, 22, 10, tz=STOCKHOLM)
    start = threading.Barrier(8)
    results: list[str] = [""] * 8

    def first(number: int) -> None:
        start.wait()
        try:
            issue_token(database, f"d{number}@region.example.org", Grant(GrantRole.director_office), None, FixedClock(now))
            results[number] = "issued"
        except SamverkanError as error:
            results[number] = str(error)

    try:
        threads = [threading.Thread(target=first, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        database.close()
    assert results.count("issued") == 1, results
    refused = [r for r in results if r != "issued"]
    assert len(refused) == 7 and all("bara utvecklingsdirektörens kansli ger personliga koder" in r for r in refused), refused
    assert len(dump(db_url)["actors"]) == 1


# 7. Who may start a process.


def test_a_fresh_install_records_the_starter_as_bootstrap(cli_env, capsys):
    result = run_cli(capsys, "start", DEFAULT_DEFINITION, "--actor", "someone@umea.example.org")
    # The tests pin the clock, so this first write makes a simulated store, which it says.
    assert result.code == 0 and result.err.startswith("varning: lagret är simulerat") and result.err.count("\n") == 1
    assert result.out.splitlines()[-1] == "samverkan-2027-2030"
    [instance] = dump(cli_env)["instances"]
    assert "'bootstrap'" in instance and "someone" not in repr(instance)


def test_once_tokens_exist_only_the_directors_office_starts(running, capsys):
    contact = run_cli(capsys, "token", "issue", "ks@umea.example.org", "--role", "party-contact", "--party", "umea",
                      *running["credentials"]).out.strip().splitlines()[-1]
    before = dump(running["url"])
    one_line(run_cli(capsys, "start", DEFAULT_DEFINITION, "--instance", "two"), "--actor: vem gör ändringen?")
    one_line(run_cli(capsys, "start", DEFAULT_DEFINITION, "--instance", "two", "--actor", "ks@umea.example.org",
                     "--token", contact), "ks@umea.example.org får inte starta en process; det får bara utvecklingsdirektörens kansli")
    assert dump(running["url"]) == before
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--instance", "two", *running["credentials"]).code == 0


def test_may_start():
    director = Actor(DIRECTOR, (Grant(GrantRole.director_office),))
    lead = Actor("lead@region.example.org", (Grant(GrantRole.project_lead, stage="drafting"),))
    may_start(None, any_actor_exists=False)
    may_start(lead, any_actor_exists=False)
    may_start(director, any_actor_exists=True)
    for who in (lead, None):
        with pytest.raises(SamverkanError, match="bara utvecklingsdirektörens kansli får starta en process|det får bara utvecklingsdirektörens kansli"):
            may_start(who, any_actor_exists=True)


# 8. The audit CSV is safe to open in a spreadsheet.


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=1+2", "'=1+2"), ("+46 90 123", "'+46 90 123"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\tx", "'\tx"), ("\rx", "'\rx"), ("§187", "§187"), ("a=b", "a=b"), ("", ""), (7, 7), (None, None), (False, False)],
)
def test_cells_a_spreadsheet_would_run_are_quoted(value, cell):
    assert _inert(value) == cell


def test_audit_csv_quotes_formulas_and_json_keeps_them(running, capsys):
    reason, reference = '=HYPERLINK("http://example.org/x","klicka")', "@SUM(1)"
    assert run_cli(capsys, *MEMO, "--reason", reason, "--reference", reference, *running["credentials"]).code == 0
    rows = list(csv.DictReader(io.StringIO(run_cli(capsys, "audit", "vb").out)))
    memo = next(r for r in rows if r["Steg"] == "Förvaltningens tjänsteskrivelse" and r["Automatisk"] == "nej")
    assert (memo["Kommentar"], memo["Referens"]) == ("'" + reason, "'" + reference)
    assert all(not v.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for v in r.values())
    trail = json.loads(run_cli(capsys, "audit", "vb", "--format", "json").out)["transitions"]
    assert next(t for t in trail if t["stage"] == "memo" and not t["automatic"])["reason"] == reason


# 9. The crash hook answers only to its test-only name.


def test_the_old_crash_hook_name_is_inert():
    code = "from samverkan.faults import crash_point; crash_point('here'); print('alive')"
    env = {**os.environ, "SAMVERKAN_CRASH_AT": "here"}
    env.pop("SAMVERKAN_TEST_CRASH_AT", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.strip() == "alive", done.stderr


@pytest.mark.parametrize("command", [["status"], ["db", "current"]])
def test_a_password_given_as_a_url_option_is_not_shown(monkeypatch, capsys, command):
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", "postgresql+psycopg://postgres:secret1@127.0.0.1:1/x?password=hunter2")
    result = run_cli(capsys, *command)
    assert result.code == 2 and "hunter2" not in result.err and "secret1" not in result.err, result.err
    assert "password=hidden" in result.err
