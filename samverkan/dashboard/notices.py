"""The notices artifact: what the outbox sent, holds and could not send, failures first,
each with its reason. Pure: outbox rows (as plain dicts) -> table rows in words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pendulum

from samverkan.calendar import TIMEZONE
from samverkan.i18n import N_, _, n_

from .words import NOTHING

STATE_NAMES = {"queued": N_("köad"), "sending": N_("skickas"), "sent": N_("skickad"), "failed": N_("misslyckad"),
               "cancelled": N_("inte längre aktuell")}
# A notice's kind in words (samverkan.notices.model.NoticeKind): never its id.
KIND_NAMES = {"ready": N_("kan påbörjas"), "before": N_("påminnelse"), "on-day": N_("sista dagen"),
              "overdue": N_("efter sista dagen"), "escalation": N_("eskalering"), "confirmation": N_("bekräftelse"),
              "digest": N_("veckosammanställning"), "minutes": N_("justering och anslag")}
_ORDER = {"failed": 0, "sending": 1, "queued": 2, "sent": 3, "cancelled": 4}


def state_name(state: str) -> str:
    return _(STATE_NAMES[state]) if state in STATE_NAMES else state


def kind_name(kind: str) -> str:
    """"påminnelse 2" for before-2: the kind and, where a branch has several, which one."""
    if kind in KIND_NAMES:
        return _(KIND_NAMES[kind])
    base, _dash, sequence = kind.rpartition("-")
    if base in KIND_NAMES and sequence.isdigit():
        return f"{_(KIND_NAMES[base])} {sequence}"
    return kind


def _when(moment: Any) -> str:
    return pendulum.instance(moment).in_timezone(TIMEZONE).format("YYYY-MM-DD HH:mm") if moment else NOTHING


def notices_table(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    ordered = sorted(rows, key=lambda r: (_ORDER.get(r["state"], 9), -pendulum.instance(r["send_at"]).timestamp()))
    # What to act on first, left: the UI cuts a wide table at the window's edge.
    return [{
        _("Tillstånd"): state_name(r["state"]),
        _("Orsak"): r.get("last_error") or NOTHING,
        _("Part"): (r.get("facts") or {}).get("party_name") or NOTHING,
        _("Mottagare"): r["recipient"] or NOTHING,
        _("Slag"): kind_name(r["kind"]),
        _("Skickas/skickat"): _when(r.get("sent_at") or r["send_at"]),
        _("Försök"): str(r["attempts"]),
        _("Steg"): (r.get("facts") or {}).get("stage_name") or NOTHING,
    } for r in ordered]


def notices_text(counts: Mapping[str, int]) -> str:
    """One line: "12 skickade, 3 köade, 1 misslyckad"."""
    words = {"sent": lambda n: n_("{n} skickad", "{n} skickade", n), "queued": lambda n: n_("{n} köad", "{n} köade", n),
             "sending": lambda n: n_("{n} skickas", "{n} skickas", n),
             "failed": lambda n: n_("{n} misslyckad", "{n} misslyckade", n),
             "cancelled": lambda n: n_("{n} inte längre aktuell", "{n} inte längre aktuella", n)}
    parts = [words[s](counts[s]) for s in ("failed", "queued", "sending", "sent", "cancelled") if counts.get(s)]
    return ", ".join(parts) if parts else _("Inga utskick ännu")
