"""The timeline picture on `/` and on each member's page, parsed back as XML:
a bar per stint, and absences, covers, gaps, holidays and today where the
roster and the record put them."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import date

import pendulum
from rosterkit import away, yaml_text

from scheduler.core import Window
from scheduler.team import Team
from webkit import COMMENT, sign_in

SVG = "{http://www.w3.org/2000/svg}"


def svg(page: str, which: str = "tl-chart") -> ET.Element:
    found = re.search(rf'<svg class="{which}".*?</svg>', page, re.S)
    assert found, f"no {which} on the page"
    return ET.fromstring(found.group(0))


def bars(chart: ET.Element) -> list[ET.Element]:
    return [g for g in chart.iter(SVG + "g") if "tl-stint" in g.get("class", "").split()]


def titled(chart: ET.Element, kind: str) -> list[str]:
    return [el.find(SVG + "title").text for el in chart.iter() if el.get("class") == kind]


def stints_on(roster, first: date, weeks: int):
    """The stints on in the window, as the schedule says: each week's incoming
    stint and the one already running when it begins."""
    s = Team.load(roster).schedule()
    found = s.weeks(Window(first, weeks))
    return s, [found[0].continuing] + [w.incoming for w in found]


def edit(roster, change):
    data = json.loads(roster.read_text().split("\n", 1)[1])
    change(data)
    roster.write_text(COMMENT + yaml_text(data))


def test_the_page_shows_the_coming_26_weeks_one_bar_per_stint(client, roster):
    page = client.get("/").get_data(as_text=True)
    chart = svg(page)
    s, stints = stints_on(roster, date(2027, 1, 11), 26)
    found = bars(chart)
    assert len(found) == len(stints) and all(st.member for st in stints)
    assert sorted(b.get("data-member") for b in found) == sorted(st.member for st in stints)
    for bar, stint in zip(found, stints):
        title = bar.find(SVG + "title").text
        assert title.startswith(f"{s.roster.name_of(stint.member)}: stint from ")
        assert f"Why: {stint.reason}" in title
        halves = [r.get("class") for r in bar.iter(SVG + "rect")]
        # Both weeks, but for the stints cut by the window's edges.
        assert halves == ["w1", "w2"] or (halves == ["w2"] and bar is found[0]) or (halves == ["w1"] and bar is found[-1])
    assert page.index('id="timeline"') < page.index('id="coming"')  # above the table, which stays
    assert "2027-01-11 to 2027-07-11 (26 weeks)" in page
    names = svg(page, "tl-labels")
    links = {a.get("href"): a.find(SVG + "title").text for a in names.iter(SVG + "a")}
    assert links == {f"/member/{n.lower()}@example.gov": n for n in ("Ada", "Bob", "Cy", "Di")}
    assert titled(chart, "tl-holiday")[0] == "Martin Luther King Jr. Day, Mon 2027-01-18"
    assert titled(chart, "tl-moved")[0] == "Handoff Tue 2027-01-19 09:00, moved by Martin Luther King Jr. Day"
    today = [g for g in chart.iter(SVG + "g") if g.get("class") == "tl-today"]
    assert [g.find(SVG + "title").text for g in today] == ["Today, Tue 2027-01-12"]


def test_absences_covers_and_gaps_are_drawn_where_they_happen(client, roster):
    sign_in(client)  # notes are the team's: see test_people_outside_the_team_see_no_notes
    def change(data):
        data["overrides"] = [{"from": "2027-01-13", "to": "2027-01-14", "replace": "bob@example.gov",
                              "with": "ada@example.gov", "note": "dentist"}]
        data["members"][3]["away"] = [away("2027-01-18", "2027-02-26", "parental leave")]
        data["members"][2]["away"] = [away("2027-01-14", "2027-01-14")]  # Cy, in a stint that began
    Team.load(roster).record_begun(*[pendulum.datetime(2027, 1, 12, 15, tz="UTC")] * 2)
    edit(roster, change)
    chart = svg(client.get("/").get_data(as_text=True))
    assert titled(chart, "tl-away") == ["Cy away 2027-01-14", "Di away 2027-01-18 to 2027-02-26 (parental leave)"]
    assert titled(chart, "tl-cover") == ["Ada covers for Bob 2027-01-13 to 2027-01-14: dentist"]
    assert titled(chart, "tl-covered") == titled(chart, "tl-cover")
    assert titled(chart, "tl-gapday") == ["Gap on Thu 2027-01-14: Cy's slot: Cy is away"]
    # Each mark sits in its lane and on its days.
    day = float(chart.get("width")) / (26 * 7)
    cover = next(el for el in chart.iter(SVG + "rect") if el.get("class") == "tl-cover")
    assert float(cover.get("x")) == round(2 * day, 1) and float(cover.get("width")) == round(2 * day, 1)
    ada_lane = next(el for el in chart.iter(SVG + "rect") if el.get("class", "").startswith("tl-lane"))
    assert float(ada_lane.get("y")) <= float(cover.get("y")) < float(ada_lane.get("y")) + 30


def test_a_stint_nobody_can_take_is_red_across_the_top(client, roster):
    def change(data):
        for m, when in zip(data["members"], [("2027-01-27", "2027-01-27"), ("2027-01-20", "2027-01-20"), None,
                                            ("2027-01-18", "2027-02-12")]):
            if when:
                m["away"] = [away(*when)]
    edit(roster, change)
    chart = svg(client.get("/").get_data(as_text=True))
    _, stints = stints_on(roster, date(2027, 1, 11), 26)
    gaps = [st for st in stints if st.member is None]
    assert len(gaps) == 1
    assert len(titled(chart, "tl-gap")) == 1 and titled(chart, "tl-gap")[0].startswith(
        "Gap: nobody holds the stint from 2027-01-19 09:00 to 2027-02-01 09:00: nobody available")
    assert len(bars(chart)) == len(stints) - 1


def test_going_back_into_the_recorded_past_shows_what_the_record_keeps(client, roster, clock):
    # Weeks recorded as they began; then the roster is reordered: the past stays.
    Team.load(roster).record_begun(*[pendulum.datetime(2027, 1, 12, 15, tz="UTC")] * 2)
    clock.at = pendulum.parse("2027-03-03T15:00:00Z")
    edit(roster, lambda data: data["members"].reverse())
    page = client.get("/?from=2027-01-04&weeks=2").get_data(as_text=True)
    chart = svg(page)
    held = {b.find(SVG + "title").text.split(":")[0]: "recorded" in b.get("class") for b in bars(chart)}
    assert held == {"Ada": True, "Bob": True, "Cy": True}
    _, stints = stints_on(roster, date(2027, 1, 4), 2)
    assert len(bars(chart)) == len(stints)
    assert "2027-01-04 to 2027-01-17 (2 weeks)" in page
    assert not [g for g in chart.iter(SVG + "g") if g.get("class") == "tl-today"]
    assert 'href="/?from=2026-12-21&amp;weeks=2"' in page and 'href="/?from=2027-01-18&amp;weeks=2"' in page
    # Without the record the roster alone would start with Di: the page shows what happened.
    assert re.search(r'<a href="/">From this week</a>', page)


def test_a_bad_range_says_what_is_wrong_and_shows_the_coming_weeks(client):
    answer = client.get("/?from=next+tuesday&weeks=500")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "weeks must be a whole number from 1 to 104; from must be a date, YYYY-MM-DD; showing the coming weeks instead" in page
    assert "2027-01-11 to 2027-07-11 (26 weeks)" in page
    far = client.get("/?from=2090-01-01")
    assert far.status_code == 400 and "from must be within 10 years of today" in far.get_data(as_text=True)


def test_names_and_notes_are_escaped_everywhere_in_the_picture(client, roster):
    sign_in(client)  # notes are the team's: see test_people_outside_the_team_see_no_notes
    name = '<script>alert("x")</script> O\'Neil & "Q"'
    note = '</title><script>alert(1)</script>'

    def change(data):
        data["members"][0]["name"] = name
        data["members"][0]["away"] = [away("2027-02-01", "2027-02-02", note)]
    edit(roster, change)
    page = client.get("/").get_data(as_text=True)
    assert "<script>alert" not in page and "</title><script>" not in page
    chart, labels = svg(page), svg(page, "tl-labels")  # both parse as XML
    assert titled(chart, "tl-away") == [f"{name} away 2027-02-01 to 2027-02-02 ({note})"]
    assert any(b.find(SVG + "title").text.startswith(f"{name}: stint") for b in bars(chart))
    label = next(labels.iter(SVG + "a"))
    assert label.find(SVG + "title").text == name and label.find(SVG + "text").text == name[:15] + "…"
    member_page = client.get("/member/ada@example.gov").get_data(as_text=True)
    assert "<script>alert" not in member_page and "<h1>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; O&#39;Neil" in member_page
    svg(member_page)


def test_the_page_runs_no_inline_script_or_style_and_says_so(client):
    answer = client.get("/")
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe-inline" not in policy
    page = answer.get_data(as_text=True)
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/timeline.js" defer>']
    assert " style=" not in page and "<style" not in page
    with client.get("/static/timeline.js") as script:
        assert script.status_code == 200 and b"textContent" in script.data and b"innerHTML" not in script.data


def test_a_members_page_shows_their_stints_absences_and_covers(client, roster):
    sign_in(client)  # notes are the team's: see test_people_outside_the_team_see_no_notes
    def change(data):
        data["members"][3]["away"] = [away("2027-02-01", "2027-02-05", "PTO")]
        data["overrides"] = [{"from": "2027-01-13", "to": "2027-01-13", "replace": "bob@example.gov",
                              "with": "di@example.gov"}]
    edit(roster, change)
    answer = client.get("/member/DI@example.gov")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<h1>Di</h1>" in page
    chart = svg(page)
    s, stints = stints_on(roster, date(2027, 1, 11), 26)
    mine = [st for st in stints if st.member == "di@example.gov"]
    assert len(bars(chart)) == len(mine) > 0
    assert {b.get("data-member") for b in bars(chart)} == {"di@example.gov"}
    assert titled(chart, "tl-away") == ["Di away 2027-02-01 to 2027-02-05 (PTO)"]
    assert titled(chart, "tl-cover") == ["Di covers for Bob 2027-01-13"]
    assert len(list(svg(page, "tl-labels").iter(SVG + "a"))) == 1
    listed = re.findall(r"<li>(Di: stint from [^<]*)</li>", page)
    assert len(listed) == len(mine)
    assert "2027-02-01 to 2027-02-05: PTO" in page and "Di covers for Bob 2027-01-13" in page
    assert client.get("/member/nobody@example.gov").status_code == 404
    past = client.get("/member/di@example.gov?from=2027-01-04&weeks=1")
    assert past.status_code == 200 and "None in these weeks." in past.get_data(as_text=True)


def test_a_private_team_asks_to_sign_in_before_a_members_page(roster, clock):
    from web import create_app

    app = create_app({"TESTING": True, "ROSTER": str(roster), "SECRET_KEY": "test-secret", "CLOCK": clock,
                      "PRIVATE": True})
    answer = app.test_client().get("/member/ada@example.gov")
    assert answer.status_code == 302 and "/signin" in answer.headers["Location"]


def test_the_picture_follows_changes_to_the_roster_and_the_day(client, roster, clock):
    first = svg(client.get("/").get_data(as_text=True))
    assert titled(first, "tl-away") == []
    edit(roster, lambda data: data["members"][1].update(away=[away("2027-03-01", "2027-03-05")]))
    second = svg(client.get("/").get_data(as_text=True))
    assert titled(second, "tl-away") == ["Bob away 2027-03-01 to 2027-03-05"]
    clock.at = pendulum.parse("2027-01-14T15:00:00Z")
    third = svg(client.get("/").get_data(as_text=True))
    today = next(g for g in third.iter(SVG + "g") if g.get("class") == "tl-today")
    assert today.find(SVG + "title").text == "Today, Thu 2027-01-14"


def test_swapped_and_handed_over_stints_are_marked_and_listed_on_both_members_pages(client, roster):
    sign_in(client)  # notes are the team's: see test_people_outside_the_team_see_no_notes
    s, stints = stints_on(roster, date(2027, 1, 11), 26)
    ada = next(st for st in stints if st.member == "ada@example.gov" and st.week > 1)
    bob = next(st for st in stints if st.member == "bob@example.gov" and st.week > ada.week)
    cy = next(st for st in stints if st.member == "cy@example.gov" and st.week > bob.week + 2)

    def change(data):
        data["swaps"] = [{"week": ada.monday.isoformat(), "member": "ada@example.gov",
                          "with_week": bob.monday.isoformat(), "with": "bob@example.gov", "note": "school trip"},
                         {"week": cy.monday.isoformat(), "member": "cy@example.gov", "with": "di@example.gov"}]
    edit(roster, change)
    s, stints = stints_on(roster, date(2027, 1, 11), 26)
    assert [o.applied for o in s.rotation.judge_swaps()] == [True, True]
    chart = svg(client.get("/").get_data(as_text=True))
    marked = {(b.get("data-member"), b.find(SVG + "title").text.split(", week 2")[0])
              for b in bars(chart) if "swapped" in b.get("class").split()}
    pinned = [st for st in stints if st.pinned]
    assert len(marked) == len(pinned) == 3
    assert {m for m, _ in marked} == {st.member for st in pinned} == {"ada@example.gov", "bob@example.gov",
                                                                      "di@example.gov"}
    page = client.get("/member/ada@example.gov").get_data(as_text=True)
    assert (f"Swap: Ada's stint of the week of {ada.monday.isoformat()} goes to Bob, whose stint of the week "
            f"of {bob.monday.isoformat()} goes to Ada (school trip)") in page
    assert f"Why: swap with Bob (week of {ada.monday.isoformat()})" in page
    page = client.get("/member/di@example.gov").get_data(as_text=True)
    assert f"Handover: Cy's stint of the week of {cy.monday.isoformat()} goes to Di" in page
    assert "Why: took over the stint from Cy" in page


def test_people_outside_the_team_see_no_notes(app, roster):
    """A note may say why someone is away: on the page, only the team (the
    feeds, which carry them too, are the team's) reads them. Everything else
    is the same."""
    def change(data):
        data["overrides"] = [{"from": "2027-01-13", "to": "2027-01-14", "replace": "bob@example.gov",
                              "with": "ada@example.gov", "note": "dentist appointment"}]
        data["members"][1]["away"] = [away("2027-01-25", "2027-02-05", "knee surgery")]  # Bob, in his stint
        data["swaps"] = [{"week": "2027-03-01", "member": "ada@example.gov", "with": "cy@example.gov",
                          "with_week": "2027-03-15", "note": "wedding"}]
    edit(roster, change)
    outsider, ed = app.test_client(), app.test_client()
    sign_in(ed)
    for path in ("/", "/member/bob@example.gov", "/member/ada@example.gov"):
        theirs, ours = outsider.get(path), ed.get(path)
        assert theirs.status_code == ours.status_code == 200, path
        seen, known = theirs.get_data(as_text=True), ours.get_data(as_text=True)
        for note in ("dentist appointment", "knee surgery", "wedding"):
            assert note not in seen, (path, note)
        assert any(note in known for note in ("dentist appointment", "knee surgery", "wedding")), path
    page = outsider.get("/").get_data(as_text=True)
    # the same picture, less the notes: Bob's time off and the cover are still drawn
    assert "Bob away 2027-01-25 to 2027-02-05" in " ".join(titled(svg(page), "tl-away"))
    assert bars(svg(page)) and len(bars(svg(page))) == len(bars(svg(ed.get("/").get_data(as_text=True))))
