"""The handoff notice's words, and when one is due."""

from datetime import timedelta

from rosterkit import away, member, record_of, schedule, team, utc

from scheduler.publish import handoffnotice
from scheduler.core import Window


def test_the_notice_names_the_three_people_the_coming_fortnight_and_the_checklist():
    s = schedule(team("Ada", "Bob", "Cy", member("Di", away=[away("2027-01-20", "2027-01-21", "dentist")]), holidays="US"))
    notice = handoffnotice.compose(s, s.rotation.week(1), page_url="https://rota.agency.gov/", unresolved_last_week=3,
                                   zendesk_group="Platform experts")
    text = notice.text
    assert text.splitlines()[0] == "*Platform experts support handoff*, Mon 11 Jan 2027 09:00 EST"
    assert "• Rotating in: *Cy*" in text and "• Continuing: *Bob* (carries last week's context)" in text
    assert "• Rotating out: Ada, thank you!" in text
    assert "• Di away Wed 20 Jan to Thu 21 Jan (dentist)" in text
    assert "*Unresolved tickets from last week:* 3" in text
    assert "1. Join the team's support channels" in text
    assert "2. Check you are in the Zendesk group 'Platform experts'" in text
    assert "3. Lead the first daily triage: Mon 11 Jan 2027 10:00 EST." in text
    assert notice.payload()["blocks"][0]["text"]["text"] == text


def test_names_cannot_smuggle_links_or_mentions_into_slack():
    s = schedule(team("Ada", member("<!channel> & <https://evil.example|click>", email="eve@example.gov"), "Cy"))
    text = handoffnotice.compose(s, s.rotation.week(0)).text
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text


def test_gaps_are_in_the_notice():
    data = team("Ada", "Bob", "Cy", "Di")
    record = record_of(*((st.monday.isoformat(), st.member, st.start) for st in schedule(data).rotation.stints(-1, 2)))
    data["members"][2]["away"] = [away("2027-01-13", "2027-01-13", "sick")]
    s = schedule(data, record)
    text = handoffnotice.compose(s, s.rotation.week(1)).text
    assert "• gap on Wed 13 Jan: Cy's slot (Cy is away: sick)" in text


def test_a_notice_is_due_once_for_two_days_after_its_handoff():
    s = schedule(team("Ada", "Bob", "Cy"))
    handoff = s.rotation.week(1).handoff
    assert handoffnotice.due(s, handoff - timedelta(minutes=1), set()) is None  # week 0's is a week old
    assert handoffnotice.due(s, s.rotation.week(0).handoff + timedelta(hours=1), set()).index == 0
    assert handoffnotice.due(s, handoff, set()).index == 1
    assert handoffnotice.due(s, handoff + timedelta(hours=47), set()).index == 1
    assert handoffnotice.due(s, handoff + timedelta(hours=49), set()) is None
    assert handoffnotice.due(s, handoff, {s.rotation.week(1).monday}) is None
    assert handoffnotice.due(s, utc("2027-01-01T00:00:00Z"), set()) is None  # before the rotation


def test_a_two_person_team_reads_as_one_person_staying_on():
    s = schedule(team("Ada", "Bob"))
    week = s.rotation.week(1)  # Ada rotates out and, nobody else being free, straight back in
    text = handoffnotice.compose(s, week, zendesk_group="Platform experts").text
    assert "• Staying on: *Ada*, for another two-week stint" in text
    assert "• Continuing: *Bob* (carries last week's context)" in text
    assert "Rotating in" not in text and "Rotating out" not in text
    assert "First-week checklist" not in text  # Ada is not new to it
    review = next(e for e in s.events(Window(week.monday, 1)) if e.kind == "review")
    assert "Handoff: Ada stays on for another stint, Bob continues." in review.description


def test_a_team_named_support_is_not_called_support_support():
    s = schedule(team("Ada", "Bob", "Cy", team="Cloud Platform Support"))
    text = handoffnotice.compose(s, s.rotation.week(1)).text
    assert text.splitlines()[0] == "*Cloud Platform Support handoff*, Mon 11 Jan 2027 09:00 EST"
