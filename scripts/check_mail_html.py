"""Checks the HTML of notices with the W3C validator (vnu-jar) and axe-core, as the standards ask:
every mail kind with 0 findings.

    samverkan simulate process_definitions/samverkan_2027_2030.yaml --until 2027-01-31 --mail-dir /tmp/year
    (cd /tmp/tools && npm install vnu-jar axe-core)
    .venv/bin/python scripts/check_mail_html.py /tmp/year docs/notices --tools /tmp/tools

Each argument is a folder of .eml files (`--mail-dir`), of which the message with the most HTML
of each kind is checked (a confirmation by its subject too: a decision recorded, a "no" told to
the office), or with --all every message; or a folder of .html files, or single files. Prints each file's findings and
exits 1 if there are any. Needs Java (vnu) and Debian's chromium (axe, through Playwright)."""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import pathlib
import subprocess
import sys
import tempfile
import urllib.parse

CHROMIUM = "/usr/bin/chromium"
_AXE_RUN = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
    .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')}`)"""


def kind_of(message: email.message.EmailMessage) -> str:
    """before-2 → before; a confirmation also by what its subject says before the stage."""
    label = str(message.get("X-Samverkan-Notice", "?")).rsplit("-", 1)
    kind = label[0] if len(label) == 2 and label[1].isdigit() else "-".join(label)
    if kind == "confirmation":
        subject = str(message.get("Subject", "")).removeprefix("[EXEMPEL] ")
        kind += ": " + subject.split(" – ")[0]
    return kind


def html_files(arguments: list[pathlib.Path], scratch: pathlib.Path, every: bool) -> dict[str, pathlib.Path]:
    """What to check, by a name to report it under: from a folder of .eml files every message,
    or of each kind the one with the most HTML (the fullest lists and tables)."""
    found: dict[str, pathlib.Path] = {}
    for argument in arguments:
        if argument.is_file():
            found[str(argument)] = argument
            continue
        for page in sorted(argument.glob("*.html")):
            found[str(page)] = page
        chosen: dict[str, tuple[str, str]] = {}  # a kind, or a file's name with --all: (name, html)
        for eml in sorted(argument.glob("*.eml")):
            if eml.with_suffix(".html").exists():  # docs/notices: its HTML part is there already
                continue
            message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
            kind, html = kind_of(message), message.get_body(("html",)).get_content()
            key = eml.name if every else kind
            if key not in chosen or len(html) > len(chosen[key][1]):
                chosen[key] = (f"{eml} [{kind}]", html)
        for name, html in chosen.values():
            page = scratch / f"{len(found):04d}.html"
            page.write_text(html, encoding="utf-8")
            found[name] = page
    return found


def vnu(tools: pathlib.Path, pages: dict[str, pathlib.Path]) -> dict[str, list[str]]:
    jar = tools / "node_modules/vnu-jar/build/dist/vnu.jar"
    done = subprocess.run(["java", "-jar", str(jar), "--errors-only", "--format", "json", *map(str, pages.values())],
                          capture_output=True, text=True, check=False)
    by_path = {str(page.resolve()): name for name, page in pages.items()}
    found: dict[str, list[str]] = {name: [] for name in pages}
    for item in json.loads(done.stderr or '{"messages": []}')["messages"]:  # vnu says file:/tmp/x.html
        name = by_path.get(urllib.parse.urlparse(item.get("url", "")).path, item.get("url", "?"))
        found.setdefault(name, []).append(f"line {item.get('lastLine', '?')}: {item.get('message')}")
    return found


def axe(tools: pathlib.Path, pages: dict[str, pathlib.Path]) -> dict[str, list[str]]:
    from playwright.sync_api import sync_playwright

    script = (tools / "node_modules/axe-core/axe.min.js").read_text(encoding="utf-8")
    found = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page()
            for name, path in pages.items():
                page.goto(path.resolve().as_uri())
                page.add_script_tag(content=script)
                found[name] = page.evaluate(_AXE_RUN)
        finally:
            browser.close()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=pathlib.Path, help="folders of .eml or .html files, or files")
    parser.add_argument("--all", action="store_true", help="every message in a folder, not the fullest of each kind")
    parser.add_argument("--tools", type=pathlib.Path, default=pathlib.Path("/tmp/tools"),
                        help="the folder where `npm install vnu-jar axe-core` was run (default /tmp/tools)")
    args = parser.parse_args(argv)
    missing = [p for p in args.paths if not p.exists()]
    if missing:
        print(f"error: no such file or folder: {missing[0]}", file=sys.stderr)
        return 2
    for needed in ("node_modules/vnu-jar/build/dist/vnu.jar", "node_modules/axe-core/axe.min.js"):
        if not (args.tools / needed).exists():
            print(f"error: {args.tools / needed} is missing (cd {args.tools} && npm install vnu-jar axe-core)", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="samverkan-mail-html-") as scratch:
        pages = html_files(args.paths, pathlib.Path(scratch), args.all)
        validated, accessible = vnu(args.tools, pages), axe(args.tools, pages)
    total = 0
    for name in pages:
        findings = [f"vnu: {f}" for f in validated.get(name, [])] + [f"axe: {f}" for f in accessible.get(name, [])]
        total += len(findings)
        print(f"{name}: vnu {len(validated.get(name, []))}, axe {len(accessible.get(name, []))}")
        for finding in findings:
            print(f"    {finding}")
    print(f"{len(pages)} files, {total} findings")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
