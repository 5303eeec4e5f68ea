"""Public holidays, from the `holidays` package, for the core's calendar.

The core only asks `day in holidays` and `holidays.get(day)`; this adapter
builds the object that answers.

Importing `holidays` imports every country it knows (about a quarter of a
second), which would be most of what `rota who` costs. So the dates are
kept in a small cache file per country (under ``$XDG_CACHE_HOME/rota``),
tied to the installed `holidays` package, and the package is imported only
when the cache lacks a year. A cache that cannot be read or written is
simply not used.
"""

from __future__ import annotations

import importlib.util
import json
import os
from datetime import date
from functools import lru_cache
from pathlib import Path

from scheduler.store.atomicfile import write_atomic

YEARS_AHEAD = 12  # filled in one go, so that years ahead rarely miss


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    # The registry names every country without importing them all, which
    # `holidays.list_supported_countries()` does.
    from holidays.registry import COUNTRIES

    return frozenset(names[1] for names in COUNTRIES.values())


def supported(code: str) -> bool:
    code = code.upper()
    cache = _Cache.for_country(code)
    return bool(cache and cache.years) or code in _countries()


class CachedHolidays:
    """A country's holidays by date, computed by `holidays` on a cache miss."""

    def __init__(self, code: str):
        self.code = code
        self._cache = _Cache.for_country(code)
        self._days: dict[date, str] = {}
        self._years: set[int] = set()
        self._library = None
        if self._cache is not None:
            self._days, self._years = self._cache.load()

    def _year(self, year: int) -> None:
        if year in self._years:
            return
        if self._library is None:
            import holidays

            self._library = holidays.country_holidays(self.code)
        for y in range(year - 1, year + YEARS_AHEAD):
            if y in self._years:
                continue
            self._library.get(date(y, 1, 1))  # makes the library compute year y
            self._years.add(y)
        self._days.update({d: str(n) for d, n in self._library.items()})
        if self._cache is not None:
            self._cache.save(self._days, self._years)

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        self._year(day.year)
        return day in self._days

    def get(self, day: date, default: str | None = None) -> str | None:
        self._year(day.year)
        return self._days.get(day, default)


class _Cache:
    """One JSON file of dates and names, valid for one installed `holidays`."""

    def __init__(self, path: Path, key: str):
        self.path, self.key = path, key

    @classmethod
    def for_country(cls, code: str) -> _Cache | None:
        spec = importlib.util.find_spec("holidays")
        if spec is None or not spec.origin:
            return None
        try:
            stat = os.stat(spec.origin)
        except OSError:
            return None
        home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        key = f"{spec.origin}:{stat.st_mtime_ns}:{stat.st_size}"
        return cls(Path(home) / "rota" / f"holidays-{code}.json", key)

    @property
    def years(self) -> set[int]:
        return self.load()[1]

    def load(self) -> tuple[dict[date, str], set[int]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("key") != self.key:
                return {}, set()
            days = {date.fromisoformat(d): str(n) for d, n in data["days"].items()}
            return days, {int(y) for y in data["years"]}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}, set()

    def save(self, days: dict[date, str], years: set[int]) -> None:
        data = {"key": self.key, "years": sorted(years), "days": {d.isoformat(): n for d, n in sorted(days.items())}}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(data).encode("utf-8"))
        except OSError:
            pass  # a cache is an optimisation; a read-only home is not an error


@lru_cache(maxsize=16)
def calendar(code: str | None):
    """The holidays of country `code` (any year, computed as asked), or none."""
    if not code:
        return {}
    return CachedHolidays(code.upper())
