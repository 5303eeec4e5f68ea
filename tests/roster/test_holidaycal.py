"""Holidays come from the `holidays` package, through a small cache file."""

import json
from datetime import date

from scheduler.roster import holidaycal


def test_us_holidays_and_their_names(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    us = holidaycal.CachedHolidays("US")
    assert date(2027, 1, 18) in us and us.get(date(2027, 1, 18)) == "Martin Luther King Jr. Day"
    assert date(2027, 1, 19) not in us
    assert us.get(date(2026, 7, 3)) == "Independence Day (observed)"


def test_the_cache_is_written_and_then_answers_without_the_library(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    holidaycal.CachedHolidays("US").get(date(2030, 1, 1))
    cache = tmp_path / "rota" / "holidays-US.json"
    data = json.loads(cache.read_text())
    assert 2030 in data["years"] and data["days"]["2030-12-25"] == "Christmas Day"
    # A second reader finds the year in the cache and never asks the library.
    again = holidaycal.CachedHolidays("US")
    monkeypatch.setattr("holidays.country_holidays", lambda *a, **k: (_ for _ in ()).throw(AssertionError("used")))
    assert date(2030, 12, 25) in again


def test_a_corrupt_or_stale_cache_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = tmp_path / "rota" / "holidays-US.json"
    cache.parent.mkdir(parents=True)
    cache.write_text("{not json")
    assert date(2027, 12, 24) in holidaycal.CachedHolidays("US")  # Christmas observed on Friday
    cache.write_text(json.dumps({"key": "another install", "years": [2027], "days": {"2027-03-03": "Fake Day"}}))
    assert date(2027, 3, 3) not in holidaycal.CachedHolidays("US")


def test_an_unwritable_cache_is_not_an_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file where a directory should be
    assert date(2027, 7, 5) in holidaycal.CachedHolidays("US")


def test_country_codes_are_checked_and_none_means_no_holidays():
    assert holidaycal.supported("us") and holidaycal.supported("GB")
    assert not holidaycal.supported("Atlantis")
    assert holidaycal.calendar(None) == {}
