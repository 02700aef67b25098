"""The notices artifact: what the outbox sent, holds and could not send, failures first,
each with its reason. Pure: outbox rows (as plain dicts) -> table rows in Swedish."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pendulum

from samverkan.calendar import TIMEZONE

from .words import NOTHING

STATE_NAMES = {"queued": "köad", "sending": "skickas", "sent": "skickad", "failed": "misslyckad", "cancelled": "inte längre aktuell"}
KIND_NAMES = {"ready": "kan påbörjas", "before": "påminnelse", "on-day": "sista dagen", "overdue": "försenad",
              "escalation": "eskalering", "confirmation": "bekräftelse", "digest": "veckosammanställning",
              "minutes": "justering och anslag"}
_ORDER = {"failed": 0, "sending": 1, "queued": 2, "sent": 3, "cancelled": 4}


def kind_name(kind: str) -> str:
    base, _, sequence = kind.partition("-")
    if kind in KIND_NAMES:
        return KIND_NAMES[kind]
    return f"{KIND_NAMES.get(base, base)} {sequence}".strip()


def _when(moment: Any) -> str:
    return pendulum.instance(moment).in_timezone(TIMEZONE).format("YYYY-MM-DD HH:mm") if moment else NOTHING


def notices_table(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    ordered = sorted(rows, key=lambda r: (_ORDER.get(r["state"], 9), -pendulum.instance(r["send_at"]).timestamp()))
    # What to act on first, left: the UI cuts a wide table at the window's edge.
    return [{
        "Tillstånd": STATE_NAMES.get(r["state"], r["state"]),
        "Orsak": r.get("last_error") or NOTHING,
        "Part": (r.get("facts") or {}).get("party_name") or NOTHING,
        "Mottagare": r["recipient"] or NOTHING,
        "Slag": kind_name(r["kind"]),
        "Skickas/skickat": _when(r.get("sent_at") or r["send_at"]),
        "Försök": str(r["attempts"]),
        "Steg": (r.get("facts") or {}).get("stage_name") or r["stage"] or NOTHING,
    } for r in ordered]


def notices_text(counts: Mapping[str, int]) -> str:
    """One line: "12 skickade, 3 köade, 1 misslyckad"."""
    words = {"sent": ("skickad", "skickade"), "queued": ("köad", "köade"), "sending": ("skickas", "skickas"),
             "failed": ("misslyckad", "misslyckade"), "cancelled": ("inte längre aktuell", "inte längre aktuella")}
    parts = [f"{counts[s]} {words[s][counts[s] != 1]}" for s in ("failed", "queued", "sending", "sent", "cancelled") if counts.get(s)]
    return ", ".join(parts) if parts else "Inga utskick ännu"
