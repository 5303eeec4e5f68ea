"""The timeline's geometry: a bar for every stint on in the window, in its
holder's lane, and every absence, cover, gap, holiday, handoff and today
where the days say."""

from datetime import date, datetime, timezone

from rosterkit import away, member, record_of, schedule, team

from scheduler.core import Window
from scheduler.publish import timeline

TODAY = date(2027, 1, 12)


def expected_stints(s, window):
    """The stints on in the window, from the schedule's weeks: each week's
    incoming stint, and the one already running when the window begins."""
    weeks = s.weeks(window)
    stints = [weeks[0].continuing] + [w.incoming for w in weeks]
    return stints


def x_of(pic, day):
    return (day - pic.first).days * pic.day


def test_one_bar_per_stint_in_its_holders_lane_with_week_one_then_week_two():
    s = schedule(team("Ada", "Bob", "Cy", "Di", holidays="US"))
    window = Window(date(2027, 1, 11), 26)
    pic = timeline.picture(s, window, TODAY)
    stints = expected_stints(s, window)
    assert all(st.member for st in stints)
    assert sorted((b.member, b.start) for b in pic.bars) == sorted((st.member, st.start) for st in stints)
    assert pic.stints == len(stints)
    lanes = {lane.member: i for i, lane in enumerate(pic.lanes)}
    assert [lane.name for lane in pic.lanes] == ["Ada", "Bob", "Cy", "Di"]
    for bar in pic.bars:
        assert bar.lane == lanes[bar.member]
        assert bar.x1 <= bar.mid <= bar.x2 <= pic.width
        stint = next(st for st in stints if st.start == bar.start)
        assert bar.title.startswith(f"{s.roster.name_of(stint.member)}: stint from ")
        assert bar.title.endswith(f"Why: {stint.reason}")
    # A stint that begins inside the window: week 1 is the week up to the next handoff.
    cy = next(b for b in pic.bars if b.member == "cy@example.gov" and b.x1 == 9 / 24 * pic.day)
    # MLK Day moves the handoff between its weeks to the Tuesday: 8 days, then 6.
    assert cy.mid - cy.x1 == 8 * pic.day and cy.x2 - cy.mid == 6 * pic.day
    # The one already running when the window begins is cut at its left edge.
    running = next(b for b in pic.bars if b.start < s.day_start(window.first))
    assert running.x1 == 0 and running.mid == cy.x1 and running.x2 == cy.mid


def test_absences_covers_and_gaps_on_their_days():
    data = team("Ada", "Bob", "Cy", member("Di", away=[away("2027-02-01", "2027-02-05", "PTO")]))
    data["overrides"] = [{"from": "2027-01-13", "to": "2027-01-14", "replace": "bob@example.gov",
                          "with": "ada@example.gov", "note": "dentist"}]
    # Cy's stint began on 2027-01-11 and is in the record; an absence added since is a gap.
    data["members"][2]["away"] = [away("2027-01-15", "2027-01-15")]
    s = schedule(data, record_of(("2027-01-11", "cy@example.gov", datetime(2027, 1, 11, 14, tzinfo=timezone.utc))))
    pic = timeline.picture(s, Window(date(2027, 1, 11), 8), TODAY)
    lane = {lane.member: i for i, lane in enumerate(pic.lanes)}
    spans = {(sp.kind, sp.lane, sp.x1, sp.x2): sp.title for sp in pic.spans}

    assert spans[("away", lane["di@example.gov"], x_of(pic, date(2027, 2, 1)), x_of(pic, date(2027, 2, 6)))] \
        == "Di away 2027-02-01 to 2027-02-05 (PTO)"
    cover = ("cover", lane["ada@example.gov"], x_of(pic, date(2027, 1, 13)), x_of(pic, date(2027, 1, 15)))
    assert spans[cover] == "Ada covers for Bob 2027-01-13 to 2027-01-14: dentist"
    assert ("covered", lane["bob@example.gov"], cover[2], cover[3]) in spans
    gaps = [sp for sp in pic.spans if sp.kind == "gapday"]
    assert [(g.lane, g.x1) for g in gaps] == [(None, x_of(pic, date(2027, 1, 15)))]
    assert gaps[0].title == "Gap on Fri 2027-01-15: Cy's slot: Cy is away"
    cy_bar = next(b for b in pic.bars if b.member == "cy@example.gov" and b.recorded)
    assert cy_bar.title.startswith("Cy: stint from 2027-01-11 09:00 to 2027-01-25 09:00, week 2 from 2027-01-18 09:00, recorded.")


def test_a_stint_nobody_holds_is_one_red_bar_across_the_top():
    s = schedule(team(
        member("Ada", away=[away("2027-01-27", "2027-01-27")]),
        member("Bob", away=[away("2027-01-20", "2027-01-20")]),
        "Cy",
        member("Di", away=[away("2027-01-18", "2027-02-12")]),
    ))
    window = Window(date(2027, 1, 4), 4)
    pic = timeline.picture(s, window, TODAY)
    nobody = [st for st in expected_stints(s, window) if st.member is None]
    gaps = [sp for sp in pic.spans if sp.kind == "gap"]
    assert len(nobody) == 1 and len(gaps) == 1
    assert gaps[0].lane is None and gaps[0].x1 == x_of(pic, date(2027, 1, 18)) + 9 / 24 * pic.day
    assert gaps[0].title.startswith("Gap: nobody holds the stint from 2027-01-18 09:00 to 2027-02-01 09:00: nobody available")
    assert len(pic.bars) == len(expected_stints(s, window)) - 1
    assert not [sp for sp in pic.spans if sp.kind == "gapday"]  # the bar says it once, not once a day


def test_holidays_handoffs_and_today_are_marked():
    s = schedule(team("Ada", "Bob", "Cy", holidays="US"))
    pic = timeline.picture(s, Window(date(2027, 1, 11), 4), TODAY)
    marks = {(m.kind, m.x): m.title for m in pic.marks}
    mlk = x_of(pic, date(2027, 1, 18))
    assert marks[("holiday", mlk)] == "Martin Luther King Jr. Day, Mon 2027-01-18"
    assert marks[("moved", mlk + pic.day + 9 / 24 * pic.day)] == \
        "Handoff Tue 2027-01-19 09:00, moved by Martin Luther King Jr. Day"
    assert len([m for m in pic.marks if m.kind in ("handoff", "moved")]) == 4
    assert marks[("today", x_of(pic, TODAY) + pic.day / 2)] == "Today, Tue 2027-01-12"
    later = timeline.picture(s, Window(date(2027, 1, 11), 4), date(2027, 1, 20))
    assert [m.x for m in later.marks if m.kind == "today"] == [x_of(pic, date(2027, 1, 20)) + pic.day / 2]
    gone = timeline.picture(s, Window(date(2027, 3, 1), 4), TODAY)
    assert not [m for m in gone.marks if m.kind == "today"]


def test_the_recorded_past_is_drawn_from_the_record_whatever_the_roster_says():
    data = team("Ada", "Bob", "Cy", "Di")
    handoff = datetime(2027, 1, 4, 14, tzinfo=timezone.utc)
    kept = record_of(("2027-01-04", "di@example.gov", handoff),
                     ("2027-01-11", "cy@example.gov", datetime(2027, 1, 11, 14, tzinfo=timezone.utc)))
    s = schedule(data, kept)
    pic = timeline.picture(s, Window(date(2026, 12, 28), 3), TODAY)
    di = [b for b in pic.bars if b.member == "di@example.gov"]
    assert len(di) == 1 and di[0].recorded and di[0].start == handoff
    # The roster alone would give the first stint to Bob, second in roster order.
    assert not [b for b in pic.bars if b.member == "bob@example.gov"]
    ada = next(b for b in pic.bars if b.member == "ada@example.gov")
    assert ada.x1 == ada.mid and "week 2 only" in ada.title  # already on when the rotation starts
    assert sorted(b.member for b in pic.bars) == sorted(st.member for st in expected_stints(s, Window(date(2027, 1, 4), 2)))


def test_a_window_before_the_rotation_starts_is_empty_and_people_appear_as_they_join():
    s = schedule(team("Ada", "Bob", member("Cy", joined="2027-01-18")))
    assert timeline.picture(s, Window(date(2026, 11, 2), 4), TODAY).lanes == []
    pic = timeline.picture(s, Window(date(2026, 12, 28), 4), TODAY)
    assert [lane.name for lane in pic.lanes] == ["Ada", "Bob", "Cy"]
    offs = {(sp.lane, sp.x1, sp.x2): sp.title for sp in pic.spans if sp.kind == "off"}
    assert offs == {(0, 0, x_of(pic, date(2027, 1, 4))): "Ada joins 2027-01-04",
                    (1, 0, x_of(pic, date(2027, 1, 4))): "Bob joins 2027-01-04",
                    (2, 0, x_of(pic, date(2027, 1, 18))): "Cy joins 2027-01-18"}


def test_one_members_picture_holds_only_their_lane_and_gaps_in_their_slot():
    data = team("Ada", "Bob", "Cy", "Di")
    data["members"][2]["away"] = [away("2027-01-15", "2027-01-15")]
    data["members"][1]["away"] = [away("2027-01-13", "2027-01-13")]
    kept = record_of(("2027-01-04", "bob@example.gov", datetime(2027, 1, 4, 14, tzinfo=timezone.utc)),
                     ("2027-01-11", "cy@example.gov", datetime(2027, 1, 11, 14, tzinfo=timezone.utc)))
    s = schedule(data, kept)
    window = Window(date(2027, 1, 4), 12)
    team_pic = timeline.picture(s, window, TODAY)
    cy = timeline.picture(s, window, TODAY, "cy@example.gov")
    assert [lane.member for lane in cy.lanes] == ["cy@example.gov"]
    assert [b.start for b in cy.bars] == [b.start for b in team_pic.bars if b.member == "cy@example.gov"]
    assert {b.lane for b in cy.bars} == {0}
    assert [sp.title for sp in cy.spans if sp.kind == "gapday"] == ["Gap on Fri 2027-01-15: Cy's slot: Cy is away"]
    assert len([sp for sp in team_pic.spans if sp.kind == "gapday"]) == 2  # Bob's too, on the team's picture


def test_lane_labels_are_cut_to_fit_and_someone_removed_keeps_a_lane():
    s = schedule(team("Ada", member("Bartholomew Fitzgerald-Smythe", email="bart@example.gov"), "Cy"),
                 record_of(("2027-01-04", "zed@example.gov", datetime(2027, 1, 4, 14, tzinfo=timezone.utc))))
    pic = timeline.picture(s, Window(date(2027, 1, 4), 4), TODAY)
    labels = {lane.member: (lane.name, lane.label) for lane in pic.lanes}
    assert labels["bart@example.gov"] == ("Bartholomew Fitzgerald-Smythe", "Bartholomew Fit…")
    assert labels["zed@example.gov"] == ("zed@example.gov", "zed@example.gov")
    assert [b.member for b in pic.bars if b.lane == list(labels).index("zed@example.gov")] == ["zed@example.gov"]


def months_named(pic):
    return [(m.title, m.x) for m in pic.marks if m.kind == "month"]


def test_a_month_whose_last_few_days_open_the_window_is_not_written_over_by_the_next():
    s = schedule(team("Ada", "Bob", "Cy", "Di", holidays="US"))
    late = timeline.picture(s, Window(date(2027, 3, 29), 26), TODAY)  # 3 days of March, then April
    assert months_named(late)[0] == ("Apr 2027", x_of(late, date(2027, 4, 1)))
    early = timeline.picture(s, Window(date(2027, 1, 11), 26), TODAY)  # three weeks of January: room for it
    assert [name for name, _ in months_named(early)[:2]] == ["Jan 2027", "Feb 2027"]
