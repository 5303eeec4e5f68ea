"""Absences imported from Google Calendar on the page: a gap in a running
stint says "out of office (Google)", the coming weeks follow the imported
absences, and the roster page lists them without offering to remove them
(they change in the person's calendar, never in the roster file)."""

import html
from datetime import date

import pendulum
from rosterkit import away, member, team, yaml_text
from webkit import COMMENT, change, sign_in

from scheduler.core.model import ImportedAbsence
from scheduler.store.folder import FolderStore
from scheduler.team import Team

NOW = pendulum.parse("2027-01-12T15:00:00Z")  # the clock of webkit's app: Tuesday of Cy's first week


def with_imported(roster, *absences):
    roster.write_text(COMMENT + yaml_text(team("Ada", "Bob", member("Cy", away=[away("2027-03-01", "2027-03-02", "PTO")]),
                                               "Di", holidays="US", google={"out_of_office": True})))
    Team.load(roster).record_begun(NOW, NOW)  # Cy's stint has begun: the record keeps it
    store = FolderStore(roster)
    for a in absences:
        store.keep_imported_absence(a, NOW)


def test_a_gap_in_a_running_stint_says_out_of_office_google(roster, client):
    with_imported(roster, ImportedAbsence("cy@example.gov", "cy0001", date(2027, 1, 13), date(2027, 1, 14)))
    page = html.unescape(client.get("/").get_data(as_text=True))
    assert "Wed 13: Cy out of office (Google), no cover" in page
    assert "Cy is out of office (Google)" in page  # the warning above the table
    assert "Cy out of office (Google) 2027-01-13 to 2027-01-14" in page  # the timeline's shaded days


def test_the_coming_weeks_follow_the_imported_absences(roster, client):
    with_imported(roster)
    before = Team.load(roster).schedule()
    holder = before.stint(before.week_index(date(2027, 1, 25))).member
    with_imported(roster, ImportedAbsence(holder, "hol001", date(2027, 1, 26), date(2027, 1, 26)))
    after = Team.load(roster).schedule()
    taker = after.stint(after.week_index(date(2027, 1, 25))).member
    assert taker != holder
    page = client.get("/").get_data(as_text=True)
    row = page[page.index("<th scope=\"row\">2027-01-25"):]
    row = row[:row.index("</tr>")]
    assert after.roster.name_of(taker) in row


def test_the_roster_page_lists_imported_absences_without_a_remove_button(roster, client):
    with_imported(roster, ImportedAbsence("cy@example.gov", "cy0002", date(2027, 2, 15), date(2027, 2, 16)))
    sign_in(client)
    page = html.unescape(client.get("/roster/").get_data(as_text=True))
    section = page[page.index("Upcoming absences"):]
    assert "Cy: 2027-02-15 to 2027-02-16\n    <span class=\"muted\">out of office (Google): change it in their calendar" \
        in section
    assert section.count('value="remove_absence"') == 1  # only the typed one
    refused = change(client, "preview", "remove_absence", email="cy@example.gov", **{"from": "2027-02-15",
                                                                                    "to": "2027-02-16"})
    assert "Cy has no absence from 2027-02-15 to 2027-02-16" in html.unescape(refused.get_data(as_text=True))
