"""What people read says stages, states, parties and notices by name, never by id; a refusal
names what was filled in as its door does (the form's label on a form, --party only on the
command line); and English is there with the setting.

The illustrative instance is judged on 2026-11-23, as tests/illustrative.py builds it and as
`samverkan start --history` starts it."""

from __future__ import annotations

import csv
import io
import json
import os
import re

import pendulum
import pytest

from samverkan.dashboard.content import dashboard
from samverkan.dashboard.notices import KIND_NAMES, kind_name, notices_table
from samverkan.decisions import OUTCOME, form_description, form_for, request_from_answer
from samverkan.engine import TransitionRefused, decide
from samverkan.graph import Node
from samverkan.i18n import speaking
from samverkan.notices.model import NoticeKind
from samverkan.process_definitions import DEFAULT_DEFINITION
from tests.cli_helpers import run_cli
from tests.illustrative import AT, EXAMPLE, illustrative

INSTANCE = "vb"


def _ids(definition) -> set[str]:
    """Every id a person must never read where names are meant: stages, lifecycles and their
    states, parties, record fields, and the kinds of notice."""
    ids = {s.id for s in definition.stages} | {p.id for p in definition.parties}
    ids |= {lc.id for lc in definition.lifecycles} | {s.id for lc in definition.lifecycles for s in lc.states}
    ids |= {f.id for s in definition.stages for f in s.record}
    return ids | {kind.value for kind in NoticeKind}


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings(item)]
    return []


def _own_words(definition, ids: set[str]) -> list[str]:
    """The definition's own texts (names, descriptions, help; not its ids), longest first: a
    Swedish word in them that happens to equal an id is the definition's, not a leak."""
    texts = {s for s in _strings(definition.model_dump(mode="json")) if s not in ids and len(s) > 2}
    return sorted(texts, key=len, reverse=True)


_EMAIL = re.compile(r"[\w.+-]+@[\w.-]+")


def leaks(text: str, ids: set[str], own_words: list[str] = ()) -> set[str]:
    """The ids that stand as words in `text` once the definition's own texts and e-mail
    addresses are taken out. A word is bounded by anything but a letter, a digit or a dash
    between words ("in-force" is one id; "before-3" is the id "before" and a count)."""
    for words in own_words:
        text = text.replace(words, " ")
    text = _EMAIL.sub(" ", text)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(ids, key=len, reverse=True))) + r")(?![\w]|-[^\W\d_])")
    return set(pattern.findall(text))


@pytest.fixture
def ids(default_definition):
    return _ids(default_definition)


@pytest.fixture
def own_words(default_definition, ids):
    return _own_words(default_definition, ids)


def test_the_check_finds_the_ids_that_used_to_leak(ids):
    """Not a check that passes on anything: each line the issue quotes is caught."""
    assert leaks("Kritisk linje till ikraftträdandet: adoption → signing → in-force", ids) == {"adoption", "signing", "in-force"}
    assert leaks("Väntar på: signing (Region Västerbotten)", ids) == {"signing"}
    assert leaks("adoption/storuman: adopted -> adopted", ids) == {"adoption", "storuman", "adopted"}
    assert leaks("[Nytt beslutsärende (--to in-preparation)]", ids) == {"in-preparation"}
    assert leaks("2026-11-24 08:00  before-3  on-day", ids) == {"before", "on-day"}
    assert leaks("Antagande av överenskommelse och samverkansavtal → Undertecknande", ids) == set()


@pytest.fixture
def store(tmp_path, monkeypatch, capsys):
    """A simulated SQLite store with the default process and the whole illustrative history,
    judged on the day tests/illustrative.py judges it."""
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", f"sqlite:///{tmp_path / 'samverkan.db'}")
    monkeypatch.setenv("SAMVERKAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SAMVERKAN_NOW", AT.in_timezone("Europe/Stockholm").format("YYYY-MM-DDTHH:mm:ss"))
    for name in ("SAMVERKAN_TOKEN", "SAMVERKAN_ACTOR", "SAMVERKAN_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    started = run_cli(capsys, "start", DEFAULT_DEFINITION, "--instance", INSTANCE, "--history", EXAMPLE)
    assert started.code == 0, started.err


@pytest.mark.parametrize("command", [["status", INSTANCE], ["forecast", INSTANCE], ["plan", "--instance", INSTANCE]],
                         ids=["status", "forecast", "plan"])
def test_the_illustrative_instance_is_told_without_an_id(store, capsys, ids, own_words, command):
    result = run_cli(capsys, *command)
    assert result.code == 0, result.err
    assert leaks(result.out, ids, own_words) == set(), result.out


def test_status_forecast_and_plan_say_what_the_registrar_would(store, capsys):
    status = run_cli(capsys, "status", INSTANCE).out
    assert "Steg  " in status and "Sista dag" in status and "Deadline" not in status
    assert re.search(r"  └ Region Västerbotten .*Väntar på föregående steg \(kritisk\).*Antagande av överenskommelse och "
                     r"samverkansavtal$", status, re.MULTILINE), status
    forecast = run_cli(capsys, "forecast", INSTANCE).out
    assert "Överenskommelsen väntas gälla från 1 januari 2027 för de parter som hunnit anta den." in forecast
    assert "träda i kraft" not in forecast
    assert forecast.rstrip().endswith("Kritisk linje till ikraftträdandet: Antagande av överenskommelse och "
                                      "samverkansavtal → Undertecknande → Överenskommelsen träder i kraft")
    plan = run_cli(capsys, "plan", "--instance", INSTANCE).out
    assert "  Antagande av överenskommelse och samverkansavtal, Undertecknande: 2026-12-31 är nyårsafton" in plan


def test_a_late_branch_is_overdue_not_ago(store, capsys):
    # After the fortnight its minutes had (until then it awaits registration, which is not late).
    status = run_cli(capsys, "status", INSTANCE, "--as-of", "2026-12-16").out
    bjurholm = next(line for line in status.splitlines() if line.startswith("  └ Bjurholms kommun") and "bereds" in line)
    assert "16 dagar försenat" in bjurholm and not re.search(r"\d+ (d|dagar?) sen\b", status)


def test_sweep_dry_run_says_each_notice_by_its_kind_in_words(store, capsys, ids, own_words):
    result = run_cli(capsys, "sweep", "--dry-run", "--now", "2026-11-24T08:00")
    assert result.code == 0, result.err
    assert "påminnelse 3" in result.out and "Antagande av överenskommelse och samverkansavtal – Dorotea kommun" in result.out
    assert leaks(result.out, ids, own_words) == set(), result.out


def test_the_audit_csv_is_in_words_and_the_json_keeps_the_ids(store, capsys, ids, own_words):
    table = run_cli(capsys, "audit", INSTANCE).out
    rows = list(csv.DictReader(io.StringIO(table)))
    storuman = next(r for r in rows if r["Part"] == "Storumans kommun" and r["Referens"] == "§147")
    assert (storuman["Steg"], storuman["Från läge"], storuman["Till läge"], storuman["Automatisk"]) == (
        "Antagande av överenskommelse och samverkansavtal", "Ärendet bereds", "Antaget", "nej")
    assert "Beslutsdatum: 2026-11-20" in storuman["Uppgifter"] and storuman["Utfall"] == "registrerad"
    assert leaks(table, ids, own_words) == set()
    trail = json.loads(run_cli(capsys, "audit", INSTANCE, "--format", "json").out)["transitions"]
    decided = next(t for t in trail if t["reference"] == "§147")
    assert (decided["stage"], decided["party"], decided["to_state"], decided["to_state_name"]) == (
        "adoption", "storuman", "adopted", "Antaget")


def test_the_dashboard_says_everything_by_name(default_definition, ids, own_words):
    state, mark = illustrative(default_definition)
    dash = dashboard(default_definition, state, AT, INSTANCE, [mark])
    shown = json.dumps([dash.stages, dash.matrix, dash.timeline, dash.forecast, dash.progress.text], ensure_ascii=False)
    assert leaks(shown + dash.summary_markdown, ids, own_words) == set()
    assert "Sista dag" in dash.stages[0] and "(sista dag " in dash.summary_markdown


def test_every_kind_of_notice_has_a_name(ids):
    assert {kind_name(kind.value) for kind in NoticeKind} == set(KIND_NAMES.values())
    assert kind_name("before-3") == "påminnelse 3" and kind_name("overdue-2") == "efter sista dagen 2"
    rows = [{"state": "queued", "send_at": pendulum.datetime(2026, 11, 24, 7), "recipient": "x@example.org", "attempts": 0,
             "kind": f"{kind.value}-1" if kind in (NoticeKind.before, NoticeKind.overdue) else kind.value,
             "stage": "adoption", "facts": {"stage_name": "Antagande", "party_name": "Umeå kommun"}} for kind in NoticeKind]
    assert leaks(json.dumps(notices_table(rows), ensure_ascii=False), ids) == set()


def _adoption_ready(definition):
    from tests.test_sync_and_forms import _ready_adoption

    return _ready_adoption(definition)


def test_a_form_says_nothing_by_id(default_definition, ids, own_words):
    state = _adoption_ready(default_definition)
    node = Node("adoption", "asele")
    form = form_for(default_definition, node, state[node])
    texts = [f.title for f in form.fields] + [f.help or "" for f in form.fields] + list(form.outcomes)
    texts.append(form_description(default_definition, state, node, AT, [], INSTANCE, refusal=None))
    assert leaks("\n".join(texts).replace(f"`{INSTANCE}`", ""), ids, own_words) == set()
    assert "- **Sista dag:** 2026-12-04" in texts[-1]


def _answer(**changes):
    return {OUTCOME: "Registrera antagande (Antaget)", "decision_date": pendulum.date(2026, 11, 16),
            "decision_body": "Kommunfullmäktige", "paragraph": "§154", "agreement_outcome": "antagen",
            "contract_outcome": "antaget", **changes}


def _refusal(definition, state, answer) -> str:
    node = Node("adoption", "asele")
    form = form_for(definition, node, state[node])
    request = request_from_answer(definition, form, answer, AT)
    with pytest.raises(TransitionRefused) as refused:
        decide(definition, state, request, AT)
    return str(refused.value)


def test_a_refusal_on_a_form_is_swedish_and_names_the_form_s_field(default_definition):
    state = _adoption_ready(default_definition)
    said = _refusal(default_definition, state, _answer(contract_outcome="ej antaget"))
    assert said == ("”Beslut om samverkansavtalet” är 'ej antaget'; för att registrera ett antagande ska det vara ”antaget” "
                    "(registrera annars ett avslag)")
    late = _refusal(default_definition, state, _answer(decision_date=pendulum.date(2026, 12, 24)))
    assert late == "”Beslutsdatum”: 2026-12-24 00:00:00 ligger i framtiden (nu är det 2026-11-23 09:00:00)"
    missing = _refusal(default_definition, state, _answer(paragraph=""))
    assert missing == "”Paragraf” saknas: fyll i ”Paragraf”"
    for text in (said, late, missing):
        assert "--" not in text and "contract_outcome" not in text and "decision_date" not in text, text
    # The same request from the command line names its options.
    from samverkan.engine import TransitionRequest

    cli = TransitionRequest("adoption", "asele", "adopted", pendulum.datetime(2026, 11, 16, tz="Europe/Stockholm"),
                            fields={k: str(v) for k, v in _answer(contract_outcome="ej antaget").items() if k != OUTCOME})
    with pytest.raises(TransitionRefused, match="--field contract_outcome är 'ej antaget'"):
        decide(default_definition, state, cli, AT)


def test_the_transition_form_names_its_own_fields(default_definition):
    from samverkan.engine import resolve
    from samverkan.tasks.forms import Overgang, transition_request

    request = transition_request(Overgang(instans=INSTANCE, steg="adoption", till="adopted"))
    with pytest.raises(TransitionRefused) as refused:
        resolve(default_definition, request)
    assert str(refused.value).startswith("”Antagande av överenskommelse och samverkansavtal” görs av varje part för sig; "
                                         "ange parten med ”Part” (en av: region-vasterbotten, ")


def test_english_with_the_setting(store, capsys, monkeypatch, default_definition):
    english = run_cli(capsys, "--language", "en", "status", INSTANCE).out
    assert "Stage  " in english and "Last day" in english and "Waiting for" in english and "Sista dag" not in english
    assert run_cli(capsys, "status", INSTANCE).out.count("Sista dag") == 1  # the choice held for that command only
    assert "SAMVERKAN_LANGUAGE" not in os.environ  # set while it ran, for what it started, then taken back
    monkeypatch.setenv("SAMVERKAN_LANGUAGE", "en")
    forecast = run_cli(capsys, "forecast", INSTANCE).out
    assert "The agreement is expected to apply from 1 January 2027 for the parties that have adopted it in time." in forecast
    assert "Critical path to entry into force: Antagande av överenskommelse och samverkansavtal → Undertecknande" in forecast
    refused = run_cli(capsys, "transition", INSTANCE, "adoption", "--to", "adopted", "--party", "umea")
    assert refused.err == "error: --actor: who is acting? give --actor EMAIL (or SAMVERKAN_ACTOR) and --token\n"
    state = _adoption_ready(default_definition)
    with speaking("en"):
        said = _refusal(default_definition, state, _answer(contract_outcome="ej antaget"))
    assert said == "“Beslut om samverkansavtalet” is 'ej antaget'; to record an adoption it must be “antaget” (else record a rejection)"


def test_a_language_that_does_not_exist_is_one_line(store, capsys, monkeypatch):
    result = run_cli(capsys, "--language", "de", "status", INSTANCE)
    assert (result.code, result.out, result.err) == (2, "", "fel: --language: 'de' är inget språk som finns; välj ett av: sv, en\n")
    monkeypatch.setenv("SAMVERKAN_LANGUAGE", "fi")
    result = run_cli(capsys, "status", INSTANCE)
    assert (result.code, result.err) == (2, "fel: SAMVERKAN_LANGUAGE: 'fi' är inget språk som finns; välj ett av: sv, en\n")


def test_a_recorded_transition_is_told_by_name(store, capsys, ids, own_words):
    """Was "adoption/umea: in-preparation -> adopted"."""
    token = run_cli(capsys, "token", "issue", "direktor@region-vasterbotten.example.org", "--role", "director-office")
    assert token.code == 0, token.err
    result = run_cli(capsys, "transition", INSTANCE, "adoption", "--party", "umea", "--to", "adopted", "--at", "2026-11-23T08:00",
                     "--reference", "§201", "--field", "decision_date=2026-11-23", "--field", "decision_body=Kommunfullmäktige",
                     "--field", "agreement_outcome=antagen", "--field", "contract_outcome=antaget",
                     "--actor", "direktor@region-vasterbotten.example.org", "--token", token.out.strip().splitlines()[-1])
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == "Antagande av överenskommelse och samverkansavtal (Umeå kommun): Ärendet bereds → Antaget"
    assert "Undertecknande (Umeå kommun): Väntar på föregående steg → Kan påbörjas  (följd)" in result.out.splitlines()
    assert leaks(result.out, ids, own_words) == set()


def test_a_notice_says_its_facts_in_its_own_language_whatever_the_setting(store, monkeypatch):
    """The default process writes its notices in Swedish (notices.language): an office that
    reads its command line in English still queues Swedish mail."""
    from samverkan.clock import FixedClock
    from samverkan.notices.sweep import sweep
    from samverkan.store.database import Database

    monkeypatch.setenv("SAMVERKAN_LANGUAGE", "en")
    db = Database()
    try:
        report = sweep(db, FixedClock(pendulum.datetime(2026, 11, 24, 8, tz="Europe/Stockholm")), None, INSTANCE, dry_run=True)
    finally:
        db.close()
    marks = {mark for notice in report.would_queue for mark in notice.facts.get("marks", [])}
    assert any(mark.startswith("SIMULERAD: ") for mark in marks) and not any(mark.startswith("SIMULATED") for mark in marks)
    assert any(mark.startswith("EXEMPEL: sammanträdesdagarna") for mark in marks)
