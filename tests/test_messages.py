"""The message catalogue: every text marked in the code has a Swedish and an English
translation, each with the same placeholders; nothing marked is built in a way the catalogue
cannot look up; and the catalogues travel with the package."""

from __future__ import annotations

import ast
import fnmatch
import re
import string
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from samverkan.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, SOURCE_FOLDERS, extract_messages

ROOT = Path(__file__).resolve().parents[1]


def _catalogue(code: str):
    with (LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as source:
        return read_po(source, locale=code, domain=DOMAIN)


def _key(message) -> str:
    return message[0] if isinstance(message, tuple) else message


def _fields(text: str) -> set[str]:
    return {name for _literal, name, _spec, _conversion in string.Formatter().parse(text) if name is not None}


@pytest.fixture(scope="module")
def extracted():
    return extract_messages(ROOT)


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_marked_text_has_a_translation_in_each_language(extracted, code):
    catalogue = _catalogue(code)
    entries = {_key(m.id): m for m in catalogue if m.id}
    marked = {_key(m) for m in extracted}
    assert sorted(marked - set(entries)) == [], "not in the catalogue: run scripts/update-catalogues"
    assert sorted(set(entries) - marked) == [], "no longer used: run scripts/update-catalogues"
    untranslated = [key for key, m in entries.items()
                    if not all(m.string if isinstance(m.string, tuple) else [m.string]) or m.fuzzy]
    assert untranslated == []


@pytest.mark.parametrize("code", LANGUAGES)
def test_a_translation_keeps_the_placeholders_of_its_text(code):
    wrong = []
    for m in _catalogue(code):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        expected = set().union(*map(_fields, ids))
        wrong += [(ids[0], text) for text in strings if _fields(text) != expected]
    assert wrong == []


def test_the_catalogues_are_up_to_date_with_the_code():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "update-catalogues"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def _sources():
    for folder in SOURCE_FOLDERS:
        yield from sorted((ROOT / folder).rglob("*.py"))


_MARKERS = {"_", "n_", "N_"}


def test_no_marked_text_is_built_before_it_is_looked_up():
    """_(f"…") or _("a" + b) can never be found in the catalogue: the text must be a literal,
    its values given as {placeholders}. (_(NAME) translates a text marked N_("…") elsewhere.)"""
    built = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _MARKERS):
                continue
            texts = node.args[:2] if node.func.id == "n_" else node.args[:1]
            literal = all(isinstance(t, ast.Constant) and isinstance(t.value, str) for t in texts)
            if (node.func.id == "N_" and not literal) or any(isinstance(t, (ast.JoinedStr, ast.BinOp, ast.Call)) for t in texts):
                built.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert built == []


def test_a_module_that_translates_never_rebinds_the_underscore():
    """`for _, x in …` in a module that imports _ makes every _() after it in that function fail."""
    rebound = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports = any(isinstance(n, ast.ImportFrom) and n.module == "samverkan.i18n" and any(a.name == "_" for a in n.names)
                      for n in ast.walk(tree))
        if imports:
            rebound += [f"{path.relative_to(ROOT)}:{n.lineno}" for n in ast.walk(tree)
                        if (isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store))
                        or (isinstance(n, ast.arg) and n.arg == "_")]
    assert rebound == []


def test_the_catalogues_are_package_data():
    """An installed package (not only an editable one) reads its catalogues from the package."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["samverkan"]
    for code in LANGUAGES:
        relative = f"locale/{code}/LC_MESSAGES/{DOMAIN}.po"
        assert (ROOT / "samverkan" / relative).is_file()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), patterns


def test_a_missing_catalogue_leaves_the_code_s_swedish(monkeypatch, tmp_path):
    from samverkan import i18n

    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n._catalogue.cache_clear()
    try:
        with i18n.speaking("en"):
            assert i18n._("Sista dag") == "Sista dag"
    finally:
        i18n._catalogue.cache_clear()


def test_a_wording_corrected_in_the_swedish_catalogue_is_what_people_read(monkeypatch, tmp_path):
    import shutil

    from samverkan import i18n

    shutil.copytree(LOCALE_DIR, tmp_path / "locale")
    po = tmp_path / "locale" / "sv" / "LC_MESSAGES" / f"{DOMAIN}.po"
    text = po.read_text(encoding="utf-8")
    assert 'msgid "Dagar kvar"\nmsgstr "Dagar kvar"' in text
    po.write_text(text.replace('msgid "Dagar kvar"\nmsgstr "Dagar kvar"', 'msgid "Dagar kvar"\nmsgstr "Kvar"'), encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    i18n._catalogue.cache_clear()
    try:
        with i18n.speaking("sv"):
            assert i18n._("Dagar kvar") == "Kvar"
    finally:
        i18n._catalogue.cache_clear()


def test_the_setting_and_the_choice_of_a_caller():
    from samverkan import i18n

    with i18n.speaking("en"):
        assert i18n._("Sista dag") == "Last day"
        assert i18n.n_("{n} dag försenat", "{n} dagar försenat", 1) == "1 day overdue"
        assert i18n.n_("{n} dag försenat", "{n} dagar försenat", 8) == "8 days overdue"
    assert i18n.n_("{n} dag försenat", "{n} dagar försenat", 8) == "8 dagar försenat"
    assert i18n.language_problem("EN") is None and re.search("'de' är inget språk", i18n.language_problem("de"))
