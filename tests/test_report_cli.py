"""`rota report`: the fairness table, CSV and JSON, the monthly CSV for time
in lieu and pay, on the folder and the database store; and `rota check`'s
fairness warning with its exit code. The figures are the hand-computed
example of tests/core/test_fairness.py."""

import csv
import io
import json

import pytest
from dbkit import point_rota_at
from rosterkit import utc, yaml_text

from core.test_fairness import EXAMPLE, RECORD, UNFAIR

SPAN = ("--from", "2027-01-04", "--to", "2027-02-28", "--at", "2027-02-10T12:00")


@pytest.fixture
def roster(roster_dir):
    path = roster_dir / "team.yaml"
    path.write_text(yaml_text(EXAMPLE))
    return path


def test_the_monthly_csv_parses_back_one_row_per_person_and_month(rota, roster, tmp_path):
    out_file = tmp_path / "days.csv"
    code, out, err = rota("report", "--roster", roster, *SPAN, "--monthly", "--format", "csv", "-o", out_file)
    assert code == 0 and out == "" and f"Wrote 8 rows to {out_file}" in err
    raw = out_file.read_bytes()
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert list(rows[0]) == ["email", "name", "month", "from", "to", "support_days", "business_days",
                             "weekend_days", "holiday_days", "covering_days", "covered_days"]
    got = {(r["email"], r["month"]): (r["from"], r["to"], int(r["support_days"])) for r in rows}
    # by hand, see test_months_split_the_days
    assert got == {
        ("ada@example.gov", "2027-01"): ("2027-01-04", "2027-01-31", 20),
        ("ada@example.gov", "2027-02"): ("2027-02-01", "2027-02-28", 17),
        ("bob@example.gov", "2027-01"): ("2027-01-04", "2027-01-31", 22),
        ("bob@example.gov", "2027-02"): ("2027-02-01", "2027-02-28", 17),
        ("cy@example.gov", "2027-01"): ("2027-01-04", "2027-01-31", 14),
        ("cy@example.gov", "2027-02"): ("2027-02-01", "2027-02-28", 0),
        ("di@example.gov", "2027-01"): ("2027-01-04", "2027-01-31", 0),
        ("di@example.gov", "2027-02"): ("2027-02-01", "2027-02-28", 22),
    }
    bob_feb = next(r for r in rows if r["email"] == "bob@example.gov" and r["month"] == "2027-02")
    # Feb 1-7 less the 3 days Ada covered (Tue-Thu) = 4, 2 of them weekend; Feb 16-28: 13, 4 weekend
    assert (bob_feb["business_days"], bob_feb["weekend_days"], bob_feb["covered_days"]) == ("11", "6", "3")


def test_the_member_csv_and_json_carry_the_same_figures(rota, roster):
    code, out, _ = rota("report", "--roster", roster, *SPAN, "--format", "csv")
    assert code == 0
    rows = {r["email"]: r for r in csv.DictReader(io.StringIO(out, newline=""))}
    code, out, _ = rota("report", "--roster", roster, *SPAN, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert (data["from"], data["to"], data["today"], data["unrecorded_weeks"]) == ("2027-01-04", "2027-02-28",
                                                                                    "2027-02-10", 6)
    members = {m["email"]: m for m in data["members"]}
    # Cy: 14 days, 42 days of membership, expected 672/27 = 24.9, difference -294/27 = -10.9
    assert members["cy@example.gov"] == {
        "email": "cy@example.gov", "name": "Cy", "member_days": 42, "stints": 1, "support_days": 14,
        "business_days": 9, "weekend_days": 4, "holiday_days": 1, "holiday_handoffs": 0, "covering_days": 0,
        "covering_weeks": 0, "covered_days": 0, "covered_weeks": 0, "past_support_days": 14,
        "expected": 24.9, "difference": -10.9,
    }
    for email, m in members.items():
        assert {k: str(v) for k, v in m.items()} == rows[email]


def test_the_table_names_each_member_and_the_rate(rota, roster):
    code, out, _ = rota("report", "--roster", roster, *SPAN)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Platform experts support: fairness from 2027-01-04 to 2027-02-28"
    bob = next(line for line in lines if line.startswith("Bob "))
    # stints 3, days 39, weekend 12, holiday 1, holiday handoffs 2, covering 0, covered 1, 896/27 = 33.2, 157/27 = +5.8
    assert bob.split()[1:] == ["3", "39", "12", "1", "2", "0", "1", "33.2", "+5.8"]
    assert "0.593 support days per day of membership" in out
    assert "6 week(s) begun are not in the record yet" in out


def test_the_default_span_is_12_months_back_to_6_ahead(rota, roster):
    code, out, _ = rota("report", "--roster", roster, "--at", "2027-03-31T12:00", "--format", "json")
    data = json.loads(out)
    assert (data["from"], data["to"]) == ("2026-03-31", "2027-09-30")


def test_bad_spans_are_one_line_and_exit_2(rota, roster, tmp_path, capsys):
    code, out, err = rota("report", "--roster", roster, "--from", "2027-03-01", "--to", "2027-02-01")
    assert (code, out) == (2, "") and err == "rota: --to 2027-02-01 is before --from 2027-03-01\n"
    with pytest.raises(SystemExit) as exited:  # argparse's own exit
        rota("report", "--roster", roster, "--from", "2027-02-30")
    assert exited.value.code == 2 and "'2027-02-30' is not a date" in capsys.readouterr().err
    code, _, err = rota("report", "--roster", roster, *SPAN, "-o", tmp_path / "missing" / "x.csv")
    assert code == 2 and "cannot write the report" in err


def test_the_report_reads_the_record_from_the_database(rota, roster, database_url, monkeypatch):
    from scheduler.store.database import dispose_engines
    from scheduler.store.folder import FolderStore

    # The record on the files holds weeks -1, 0 and 1, then moves into the database with the roster.
    FolderStore(roster).add_to_record(sorted(RECORD.stints.values(), key=lambda s: s.week)[:3], utc("2027-01-12T10:00Z"))
    folder = rota("report", "--roster", roster, *SPAN, "--monthly", "--format", "csv")[1]
    point_rota_at(database_url, monkeypatch)
    try:
        assert rota("import", "--roster", roster)[0] == 0
        for p in roster.parent.glob("team.*"):
            p.unlink()
        code, out, err = rota("report", *SPAN, "--monthly", "--format", "csv")
        assert code == 0, err
        assert out == folder
        code, out, _ = rota("report", *SPAN, "--format", "json")
        assert json.loads(out)["unrecorded_weeks"] == 4  # weeks 2-5: the record holds -1, 0 and 1
    finally:
        dispose_engines()


def test_check_warns_about_fairness_and_keeps_exit_0(rota, roster_dir):
    path = roster_dir / "unfair.yaml"
    path.write_text(yaml_text(UNFAIR))
    code, out, _ = rota("check", "--roster", path, "--at", "2027-01-04T10:00")
    assert code == 0
    assert f"{path}: warning (fairness): Di has 126 support days (6 stints)" in out
    assert "OK: the roster is valid and has no gaps in the next 26 weeks." in out


def test_the_monthly_json_gives_the_months_in_place_of_the_members(rota, roster):
    code, out, _ = rota("report", "--roster", roster, *SPAN, "--monthly", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert "members" not in data
    csv_rows = list(csv.DictReader(io.StringIO(rota("report", "--roster", roster, *SPAN, "--monthly", "--format",
                                                    "csv")[1], newline="")))
    assert [{k: str(v) for k, v in m.items()} for m in data["months"]] == csv_rows
    # Di in February, by hand: Feb 1-15 (15) + Feb 22-28 (7) = 22; weekends 6; Mon 15 Feb a holiday; 15 business
    di = next(m for m in data["months"] if (m["email"], m["month"]) == ("di@example.gov", "2027-02"))
    assert (di["support_days"], di["weekend_days"], di["holiday_days"], di["business_days"]) == (22, 6, 1, 15)
