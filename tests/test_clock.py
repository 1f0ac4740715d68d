"""The request clock's arithmetic, with a frozen `now` passed in (nothing patches the system clock)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from extractor import clock
from extractor.config import Settings

RECEIVED = datetime(2026, 12, 3, 14, 5)  # naive UTC, as the store keeps it


def test_windows_are_72_hours_expedited_and_7_days_standard_by_default():
    assert clock.due_at(RECEIVED, "expedited", Settings()) == datetime(2026, 12, 6, 14, 5)
    assert clock.due_at(RECEIVED, "standard", Settings()) == datetime(2026, 12, 10, 14, 5)


def test_a_plan_can_set_its_own_windows():
    plan = Settings(expedited_hours=24, standard_hours=14 * 24)
    assert clock.due_at(RECEIVED, "expedited", plan) - RECEIVED == timedelta(hours=24)
    assert clock.due_at(RECEIVED, "standard", plan) - RECEIVED == timedelta(days=14)


def test_the_windows_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("EXTRACTOR_EXPEDITED_HOURS", "48")
    assert clock.window("expedited") == timedelta(hours=48)


def test_time_left_counts_down_and_turns_overdue():
    due = clock.due_at(RECEIVED, "expedited", Settings())
    frozen = datetime(2026, 12, 5, 14, 5, tzinfo=UTC)  # one day before due
    assert clock.hours_left(due, frozen) == pytest.approx(24.0)
    assert clock.time_left_label(due, frozen) == "24 h left"
    assert not clock.is_overdue(due, frozen)
    early = datetime(2026, 12, 3, 14, 5, tzinfo=UTC)
    assert clock.time_left_label(due, early) == "3 d 0 h left"
    late = datetime(2026, 12, 6, 18, 35, tzinfo=UTC)
    assert clock.hours_left(due, late) == pytest.approx(-4.5)
    assert clock.is_overdue(due, late) and clock.time_left_label(due, late) == "overdue 4 h"
    # a decided case has no time left and is never overdue, however late it is now
    assert clock.hours_left(due, late, decided_at=datetime(2026, 12, 4)) is None
    assert not clock.is_overdue(due, late, decided_at=datetime(2026, 12, 4))
    assert clock.time_left_label(None, late) == ""


def test_a_naive_now_is_utc_and_an_aware_one_is_converted():
    due = datetime(2026, 12, 6, 14, 5)
    east = timezone(timedelta(hours=5))
    assert clock.hours_left(due, datetime(2026, 12, 6, 12, 5)) == pytest.approx(2.0)
    assert clock.hours_left(due, datetime(2026, 12, 6, 17, 5, tzinfo=east)) == pytest.approx(2.0)


def test_within_clock_is_decided_by_the_due_time():
    due = datetime(2026, 12, 6, 14, 5)
    assert clock.within_clock(due, due) is True
    assert clock.within_clock(due, due + timedelta(seconds=1)) is False
    assert clock.within_clock(due, None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-03T14:05:00Z", datetime(2026, 12, 3, 14, 5)),
        ("2026-12-03T09:05:00-05:00", datetime(2026, 12, 3, 14, 5)),
        ("2026-12-03 14:05", datetime(2026, 12, 3, 14, 5)),
    ],
)
def test_received_at_is_iso_8601_stored_as_naive_utc(text, expected):
    assert clock.parse_received_at(text) == expected
    assert clock.iso_z(clock.parse_received_at(text)) == "2026-12-03T14:05:00Z"


@pytest.mark.parametrize("text", ["2026-12-03", "yesterday", "2026-13-03T10:00", ""])
def test_a_bad_received_at_is_refused(text):
    with pytest.raises(ValueError):
        clock.parse_received_at(text)
