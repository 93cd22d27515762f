"""'Until midnight' is Warsaw's midnight, summer time or not."""

from __future__ import annotations

from datetime import UTC, datetime

from auth.clock import warsaw_midnight_after


def test_sms_code_lives_until_warsaw_midnight_of_the_day() -> None:
    winter = datetime(2026, 1, 15, 22, 30, tzinfo=UTC)  # 23:30 in Warsaw (UTC+1)
    assert warsaw_midnight_after(winter) == datetime(2026, 1, 15, 23, 0, tzinfo=UTC)
    late = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)  # already 00:30 next day in Warsaw
    assert warsaw_midnight_after(late) == datetime(2026, 1, 16, 23, 0, tzinfo=UTC)


def test_link_lives_until_midnight_of_the_next_day_across_dst() -> None:
    before_change = datetime(2026, 3, 28, 10, 0, tzinfo=UTC)  # Saturday; DST starts Sunday
    assert warsaw_midnight_after(before_change, days=1) == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert warsaw_midnight_after(summer) == datetime(2026, 7, 1, 22, 0, tzinfo=UTC)
