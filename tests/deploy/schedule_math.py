"""What the fallback schedules cost: their cron expressions expanded into a week's checks.

EventBridge Scheduler's ``cron(minutes hours day-of-month month day-of-week year)``, the subset the
template uses (``*``, ``?``, values, ranges, steps, lists, day names), so that tests can count the
checks per week and price them at Lambda's us-east-1 rates.
"""

from __future__ import annotations

from dataclasses import dataclass

DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # cron's 1-7
# AWS Lambda, us-east-1, on demand (aws.amazon.com/lambda/pricing).
PRICE_PER_GB_SECOND = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
PRICE_PER_REQUEST = 0.20 / 1_000_000
WEEKS_PER_MONTH = 52 / 12


def _field(text: str, low: int, high: int, names: tuple[str, ...] = ()) -> set[int]:
    """The values one cron field selects."""

    def number(token: str) -> int:
        return names.index(token) + low if token in names else int(token)

    values: set[int] = set()
    for part in text.split(","):
        base, _, step = part.partition("/")
        if base in ("*", "?"):
            start, stop = low, high
        elif "-" in base:
            first, last = base.split("-")
            start, stop = number(first), number(last)
        else:
            start = number(base)
            stop = high if step else start
        values.update(range(start, stop + 1, int(step) if step else 1))
    return values


def weekly_checks(expression: str) -> set[tuple[str, int, int]]:
    """Every (day, hour, minute) of a week at which ``cron(...)`` fires (UTC)."""
    fields = expression.removeprefix("cron(").removesuffix(")").split()
    if len(fields) != 6:
        raise ValueError(f"not a cron expression: {expression}")
    minutes, hours, day_of_month, month, day_of_week, year = fields
    if (day_of_month, month, year) != ("?", "*", "*"):
        raise ValueError(f"only weekly expressions are counted: {expression}")
    days = _field(day_of_week, 1, 7, DAYS)
    return {
        (DAYS[day - 1], hour, minute)
        for day in days
        for hour in _field(hours, 0, 23)
        for minute in _field(minutes, 0, 59)
    }


@dataclass(frozen=True)
class CheckCost:
    """The price of checks that find nothing to do: ``seconds`` each at ``memory_mb``."""

    per_week: int
    memory_mb: int
    seconds: float = 1.0
    arch: str = "x86_64"

    @property
    def gb_seconds_per_week(self) -> float:
        """Lambda bills memory in GB (MB / 1,024) times billed duration."""
        return self.per_week * self.memory_mb / 1024 * self.seconds

    @property
    def dollars_per_week(self) -> float:
        """Compute plus requests, without the free tier."""
        compute = self.gb_seconds_per_week * PRICE_PER_GB_SECOND[self.arch]
        return compute + self.per_week * PRICE_PER_REQUEST

    @property
    def per_month(self) -> float:
        """Checks in an average month."""
        return self.per_week * WEEKS_PER_MONTH

    @property
    def dollars_per_month(self) -> float:
        """An average month's cost, without the free tier."""
        return self.dollars_per_week * WEEKS_PER_MONTH
