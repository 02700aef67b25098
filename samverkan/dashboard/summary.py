"""The overview in Markdown, in the order the director's office reads it: the marks, who is
at risk or outside and which decisions are not yet final (the `lead`), how many have
adopted, every "no" and everything late, then what waits on whom."""

from __future__ import annotations

from collections.abc import Sequence

import pendulum

from samverkan.process_definitions.model import ROLE_NAMES, Definition, Role, Stage
from samverkan.calendar import TIMEZONE
from samverkan.rejections import DecisionWarning, FollowUp, Rejection
from samverkan.i18n import _
from samverkan.status import StatusRow, finality_line

from .adoption import Progress
from .markdown import md_text
from .tables import days_left_text, first_late_and_rejected, waiting_text
from .words import nodes_text, responsible


def _rejection(definition: Definition, r: Rejection) -> str:
    stage = definition.stage(r.node.stage)
    who = definition.party(r.node.party).name if r.node.party else stage.name
    at = r.at.in_timezone(TIMEZONE).to_date_string() if r.at else None
    decided = ", ".join(x for x in (at, r.reference, r.decision_body) if x)
    text = f"**{md_text(who)}** – {md_text(stage.name)}: {md_text(r.state_name)}" + (f" ({md_text(decided)})" if decided else "")
    blocks = ", ".join(definition.stage(s).name for s in r.blocks)
    text += _(". Blockerar {stages}", stages=md_text(blocks)) if blocks else _(". Blockerar inget steg")
    if r.join:  # "kräver alla 16 parter; …": of the stage
        text += _(" (steget {join})", join=md_text(r.join))
    return f"- {text}. {md_text(r.next_step[:1].upper() + r.next_step[1:])}."


def _follow_up(definition: Definition, f: FollowUp) -> str:
    who = definition.party(f.node.party).name if f.node.party else definition.stage(f.node.stage).name
    return f"- **{md_text(who)}** – {md_text(f.state_name)}. {md_text(f.decided)}. {md_text(f.next_step[:1].upper() + f.next_step[1:])}."


def _warning(definition: Definition, w: DecisionWarning) -> str:
    stage = definition.stage(w.node.stage)
    who = definition.party(w.node.party).name if w.node.party else stage.name
    return (f"- **{md_text(who)}** – {md_text(stage.name)}: {md_text(w.text)} Kansliet reder ut det: ett nytt beslut av "
            "rätt organ eller en förklaring (`samverkan resolve`).")


def _countdown(row: StatusRow) -> str:
    text = days_left_text(row)
    return _("{days} kvar", days=text) if row.days_left and row.days_left > 0 else text


def _acting(row: StatusRow) -> bool:
    """Open, neither refused nor held up by a refusal, and up to its owner."""
    return not row.failed and not row.blocked_by and row.waiting_for == (row.node,)


def _waiting_lines(definition: Definition, rows: list[StatusRow]) -> list[str]:
    """One line per task and on whom it waits. The branches of a stage alike in deadline,
    countdown and what they wait for share a line; branches up to their own parties name
    every one of them: ownership made visible."""
    groups: dict[tuple, list[StatusRow]] = {}
    for row in rows:
        alike = ("acting", row.responsible_role) if _acting(row) else row.waiting_for
        key = (row.node.stage, row.deadline, row.days_left, alike) if row.node.party else (row.node.key,)
        groups.setdefault(key, []).append(row)
    lines = []
    for members in groups.values():
        first = members[0]
        title = first.name
        if first.node.party and _acting(first):
            names = ", ".join(definition.party(r.owner).name for r in members)
            who = f"{names} ({_(ROLE_NAMES[Role(first.responsible_role)])})"
        else:
            who = waiting_text(definition, first)
            if first.node.party:
                title += _(" ({count} parter)", count=len(members)) if len(members) > 1 else f" – {first.party_name}"
        lines.append(_("- **{title}** (sista dag {day}, {countdown}): väntar på {who}", title=md_text(title),
                       day=first.deadline.isoformat(), countdown=_countdown(first), who=md_text(who)))
    return lines


def _blocked(definition: Definition, rows: list[StatusRow]) -> list[str]:
    # The stage rows say it for their branches too.
    return [_("- {stage}: blockerat av avslag från {nodes}", stage=md_text(row.name),
              nodes=md_text(nodes_text(definition, row.blocked_by)))
            for row in rows if row.blocked_by and not row.failed and row.node.party is None]


def _assumptions(definition: Definition, rows: list[StatusRow]) -> list[str]:
    """What the plan assumes about the stages still open (who proposes): once done, the record
    says who decided."""
    return [f"- **{md_text(row.name)}**: {md_text(definition.stage(row.node.stage).assumption)}"
            for row in rows if row.node.party is None and row.completed_at is None
            and definition.stage(row.node.stage).assumption is not None]


def finality_markdown(rows: list[StatusRow]) -> str:
    """The adopted decisions not yet final (laga kraft): not yet announced, or open for appeal."""
    pending = [line for line in map(finality_line, rows) if line]
    if not pending:
        return ""
    return "\n".join([_("### Ej laga kraft ({count})", count=len(pending)), "", *(f"- {md_text(line)}" for line in pending)]) + "\n"


def minutes_lines(rows: list[StatusRow]) -> list[str]:
    """'Åsele kommun: Justeringen är inte registrerad: …', per warning about a decision's
    minutes (kommunallagen 8 kap. 12 §), in the order of the rows."""
    return [f"{row.party_name or row.name}: {warning}" for row in rows for warning in row.warnings]


def minutes_markdown(rows: list[StatusRow]) -> str:
    """The decisions whose minutes were approved or announced late, or are not registered as
    approved or announced after the last day the law gives."""
    lines = minutes_lines(rows)
    if not lines:
        return ""
    return "\n".join([f"### Justering och anslag ({len(lines)})", "", *(f"- {md_text(line)}" for line in lines)]) + "\n"


def summary_markdown(definition: Definition, rows: list[StatusRow], found: list[Rejection], progress: Progress,
                     adoption: Stage | None, now: pendulum.DateTime, instance_id: str, marks: list[str],
                     lead: Sequence[str] = (), follow: Sequence[FollowUp] = (), warned: Sequence[DecisionWarning] = ()) -> str:
    """`lead`: Markdown sections the overview leads with, right after the marks and the heading
    (the forecast's risks, the decisions not yet final); empty ones are left out."""
    lines = [f"> **{md_text(mark)}**\n" for mark in marks]
    lines += [f"## {md_text(definition.name)}", "",
              _("Instans {instance}, läge {now}", instance=md_text(instance_id),
                now=now.in_timezone(TIMEZONE).format("YYYY-MM-DD HH:mm")), ""]
    for section in lead:
        if section.strip():
            lines += [section.strip("\n"), ""]
    if adoption is not None:
        lines += [f"**{md_text(adoption.name)}: {progress.text}** ({round(progress.fraction * 100)} %)", ""]
    # A parallel stage as a whole is late through its branches, which are listed.
    late = [row for row in first_late_and_rejected(rows)
            if row.late and not (row.node.party is None and definition.stage(row.node.stage).for_each)]
    if warned:  # a decision that may be annulled on appeal: first, until the office resolves it
        lines += [f"### Varning ({len(warned)})", "", *(_warning(definition, w) for w in warned), ""]
    if found:
        lines += [_("### Avslag ({count})", count=len(found)), "", *(_rejection(definition, r) for r in found), ""]
    if follow:
        lines += [f"### Kräver uppföljning ({len(follow)})", "", *(_follow_up(definition, f) for f in follow), ""]
    if late:
        lines += [_("### Försenat ({count})", count=len(late)), "", *_waiting_lines(definition, late), ""]
    if not found and not late:
        lines += [_("Inget är försenat och inget har fått avslag."), ""]
    blocked = _blocked(definition, rows)
    if blocked:
        lines += [_("### Blockerat"), "", *blocked, ""]
    on_whom = _waiting_lines(definition, [row for row in rows if _acting(row) and not row.late])
    if on_whom:
        lines += [_("### Vad väntar på vem"), "", *on_whom, ""]
    assumed = _assumptions(definition, rows)
    if assumed:
        lines += ["### Antaganden i planen", "", *assumed, ""]
    return "\n".join(lines).rstrip() + "\n"
