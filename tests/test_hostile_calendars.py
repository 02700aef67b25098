"""Calendar files made to exhaust the reader: each is refused by `samverkan calendar import`
with one clear line per problem naming the file, exit code 2, well within 256 MB, and without
hanging (a hang guard of a minute; the times are printed with -s). The small files are kept in
tests/hostile_calendars/; the big ones (up to the 10 MiB the command accepts) are made here."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "hostile_calendars"
MEMORY_BOUND_KB = 256 * 1024
HANG_GUARD = 60
HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//hostile//SV\r\n"
TAIL = "END:VCALENDAR\r\n"

# Runs the command in a fresh interpreter and reports that process's own peak memory: VmHWM,
# which starts anew at exec (ru_maxrss would count the test process it was forked from).
_RUN = """
import sys
from samverkan.cli import main
try:
    main(sys.argv[1:])
    code = 0
except SystemExit as done:
    code = done.code if isinstance(done.code, int) else 1
peak = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
sys.stderr.write(f"\\nMAXRSS {peak}\\n")
sys.exit(code)
"""


def _event(uid: str, extra: str = "", dtstart: str = "DTSTART:20260105T180000Z") -> str:
    return f"BEGIN:VEVENT\r\nUID:{uid}\r\n{dtstart}\r\nSUMMARY:Kommunfullmäktige\r\n{extra}END:VEVENT\r\n"


def _big(name: str) -> str:
    if name == "rdate_8mb":
        days = ",".join(f"2026{m:02d}{d:02d}T180000Z" for m in range(1, 13) for d in range(1, 29))
        line = "RDATE:" + ",".join([days] * 1600) + "\r\n"  # ~8 MB of listed dates
        return HEAD + _event("r", line) + TAIL
    if name == "series_20000_of_999":
        return HEAD + "".join(_event(f"s{i}", "RRULE:FREQ=WEEKLY;COUNT=999\r\n") for i in range(20_000)) + TAIL
    if name == "timezones_50000":
        zone = "BEGIN:VTIMEZONE\r\nTZID:Z{i}\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        return HEAD + "".join(zone.format(i=i) for i in range(50_000)) + _event("t") + TAIL
    if name == "daily_series_4000":  # under the event bound, but 4,000 × 365 meetings in the year, past the bound on all occurrences
        return HEAD + "".join(_event(f"d{i}", "RRULE:FREQ=DAILY\r\n") for i in range(4000)) + TAIL
    raise ValueError(name)


CASES = {
    "byhour_byminute_bysecond.ics": "BYHOUR with 24 values: more than one meeting a day",
    "byminute.ics": "BYMINUTE with 60 values: more than one meeting a day",
    "unknown_tzid.ics": "names the time zone 'Mars/Olympus_Mons', which the file does not define",
    "rdate_8mb": "dates in RDATE and EXDATE; a meeting calendar lists at most",
    "series_20000_of_999": "holds 20000 events; a meeting calendar holds at most",
    "timezones_50000": "holds 50000 time zones (VTIMEZONE)",
    "daily_series_4000": "its events recur more than 5000 times",
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_calendar_is_refused_in_bounded_time_and_memory(name, tmp_path):
    path = CORPUS / name
    if not path.exists():
        path = tmp_path / f"{name}.ics"
        path.write_bytes(_big(name).encode("utf-8"))
    assert path.stat().st_size <= 10 * 1024 * 1024
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-c", _RUN, "calendar", "import", str(path), "--party", "umea",
                           "--body", "kf:Kommunfullmäktige:P2W", "--from", "2026-01-01", "--to", "2026-12-31"],
                          capture_output=True, text=True, timeout=HANG_GUARD, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    took = time.monotonic() - began
    *said, memory = done.stderr.strip().splitlines()
    peak_kb = int(memory.split()[1])
    print(f"{name}: {path.stat().st_size} bytes, {took:.2f} s, {peak_kb // 1024} MB")
    assert done.returncode == 2, done.stderr
    errors = [line for line in said if line.strip()]
    assert errors and all(line.startswith("fel: ") and path.name in line for line in errors), errors
    assert any(CASES[name] in line for line in errors), errors
    assert "Traceback" not in done.stderr and len(errors) <= 20
    assert peak_kb < MEMORY_BOUND_KB, f"{name}: {peak_kb // 1024} MB"
