"""Local wall-clock times that Europe/Stockholm skips (spring) or passes twice (autumn) are
refused with a line saying which, never shifted silently; an offset settles them."""

import datetime as dt
from zoneinfo import ZoneInfo

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samverkan.clock import FIRST_YEAR, LAST_YEAR, parse_moment
from samverkan.errors import SamverkanError
from tests.cli_helpers import run_cli

STOCKHOLM = ZoneInfo("Europe/Stockholm")
GAP = ("2026-03-29T02:30", "2026-03-29T02:30 finns inte i Europe/Stockholm (klockan ställdes fram från 02:00 till "
       "03:00 den natten); ange 03:30 eller en tidsskillnad som +01:00")
TWICE = ("2026-10-25T02:30", "2026-10-25T02:30 inträffar två gånger i Europe/Stockholm (klockan ställdes tillbaka från "
         "03:00 till 02:00); lägg till +02:00 för den första eller +01:00 för den andra")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMVERKAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-11-22T10:00:00")
    for name in ("SAMVERKAN_DATABASE_URL", "SAMVERKAN_TOKEN", "SAMVERKAN_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


@pytest.mark.parametrize(("moment", "message"), [GAP, TWICE], ids=["gap", "twice"])
@pytest.mark.parametrize(
    ("where", "args"),
    [
        ("--at", ["transition", "vb", "memo", "--to", "done", "--actor", "a@umea.example.org", "--token", "t", "--at"]),
        ("--as-of", ["status", "--as-of"]),
        ("SAMVERKAN_NOW", ["status"]),
    ],
)
def test_a_local_time_that_does_not_exist_or_exists_twice_is_refused(home, capsys, monkeypatch, moment, message, where, args):
    if where == "SAMVERKAN_NOW":
        monkeypatch.setenv("SAMVERKAN_NOW", moment)
    else:
        args = [*args, moment]
    result = run_cli(capsys, *args)
    assert (result.code, result.out, result.err) == (2, "", f"fel: {where}: {message}\n")
    assert not home.exists()  # refused before the database was opened


@pytest.mark.parametrize(
    ("moment", "utc"),
    [
        ("2026-10-25T02:30+02:00", "2026-10-25T00:30:00+00:00"),  # the first 02:30
        ("2026-10-25T02:30+01:00", "2026-10-25T01:30:00+00:00"),  # the second
        ("2026-10-25T00:30Z", "2026-10-25T00:30:00+00:00"),
        ("2026-03-29T02:30+01:00", "2026-03-29T01:30:00+00:00"),  # the instant local 03:30 names
        ("2026-03-29T03:30", "2026-03-29T01:30:00+00:00"),
        ("2026-03-29T01:59:59", "2026-03-29T00:59:59+00:00"),
        ("2026-10-25T03:00", "2026-10-25T02:00:00+00:00"),
        ("2026-03-29", "2026-03-28T23:00:00+00:00"),
    ],
)
def test_offsets_settle_it_and_the_edges_of_the_change_are_plain(moment, utc):
    assert parse_moment(moment, "--at").in_timezone("UTC").isoformat() == utc


def _last_sunday(year: int, month: int) -> dt.date:
    last = dt.date(year, month, 31)
    return last - dt.timedelta(days=(last.weekday() + 1) % 7)


# Wall times anywhere, and (mostly) in the small hours of the nights the clocks change.
walls = st.one_of(
    st.datetimes(min_value=dt.datetime(FIRST_YEAR, 1, 1), max_value=dt.datetime(LAST_YEAR, 12, 31, 23, 59, 59)),
    st.builds(
        lambda year, month, seconds: dt.datetime.combine(_last_sunday(year, month), dt.time()) + dt.timedelta(seconds=seconds),
        st.integers(FIRST_YEAR, LAST_YEAR), st.sampled_from([3, 10]), st.integers(0, 5 * 3600),
    ),
).map(lambda wall: wall.replace(microsecond=0))


@settings(max_examples=300, deadline=None)
@given(walls)
def test_every_accepted_local_wall_time_round_trips_exactly(wall):
    text = wall.isoformat(timespec="seconds")
    skipped_or_twice = wall.replace(tzinfo=STOCKHOLM, fold=0).utcoffset() != wall.replace(tzinfo=STOCKHOLM, fold=1).utcoffset()
    try:
        moment = parse_moment(text, "--at")
    except SamverkanError as error:
        assert skipped_or_twice, error
        assert "finns inte i Europe/Stockholm" in str(error) or "inträffar två gånger i Europe/Stockholm" in str(error)
        return
    assert not skipped_or_twice
    assert moment.in_timezone("Europe/Stockholm").naive() == pendulum.instance(wall).naive()
    assert moment.in_timezone("UTC") == wall.replace(tzinfo=STOCKHOLM).astimezone(dt.timezone.utc)
