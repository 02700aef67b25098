"""Record-field patterns are matched in linear time: a pattern that would make a backtracking
engine run for hours answers at once, and one that needs backtracking is refused."""

import subprocess
import sys
import textwrap

import pytest

from samverkan.patterns import compile_pattern, matches
from tests.conftest import small_definition

CATASTROPHIC = "^(a+)+$"


def test_a_catastrophic_pattern_answers_at_once():
    # With Python's backtracking `re`, 40 a's and a b take about 2^40 steps: the child is
    # killed by the timeout long before. The limit is a hang detector, not a speed target.
    program = textwrap.dedent(f"""
        from samverkan.patterns import matches
        print(matches({CATASTROPHIC!r}, "a" * 40 + "b"), matches({CATASTROPHIC!r}, "a" * 40))
    """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=20)
    assert done.stdout.split() == ["False", "True"], done.stderr


def test_a_transition_with_a_catastrophic_pattern_is_refused_quickly():
    from samverkan.engine import _field_value, NodeState
    definition = small_definition(**{"record: [{id: paragraph, name: Paragraf, type: text}]":
                                     f"record: [{{id: paragraph, name: Paragraf, type: text, pattern: '{CATASTROPHIC}'}}]"})
    spec = definition.stage("branches").record[0]
    import pendulum
    with pytest.raises(ValueError, match="har inte den form som väntas"):
        _field_value(spec, "a" * 35 + "b", NodeState("ready"), pendulum.now("UTC"))


@pytest.mark.parametrize(("pattern", "reason"), [
    (r"(a)\1", "invalid escape sequence"),
    (r"(?=a)a", "invalid perl operator"),
    ("a" * 501, "longer than 500"),
])
def test_patterns_that_need_backtracking_are_refused(pattern, reason):
    with pytest.raises(ValueError, match=reason):
        compile_pattern(pattern)


def test_swedish_letters_and_section_signs_match():
    assert matches(r"§ ?[0-9]+", "§ 187")
    assert matches(r"[A-ZÅÄÖ][a-zåäö]+", "Åsele")
    assert not matches(r"[0-9]+", "١٢")  # only ASCII digits, as the calendar's parsers
