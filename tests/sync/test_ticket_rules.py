"""The team's ticket-status rules, checked on plain values."""

from datetime import timedelta

from rosterkit import schedule, team, utc

from scheduler.sync.zendesk.ticketrules import Ticket, breaches, unresolved_between

CAL = schedule(team("Ada", "Bob", holidays="US")).calendar  # New York


def ticket(status, created, updated=None, id=1):
    return Ticket(id, f"ticket {id}", status, "Tier 1", utc(created), utc(updated or created))


def breached(t, at):
    return [b.rule for b in breaches([t], CAL, utc(at))]


def test_a_new_ticket_is_due_by_5_pm_on_the_day_it_arrives():
    t = ticket("new", "2027-01-12T10:00:00-05:00")
    assert breached(t, "2027-01-12T16:59:00-05:00") == []
    assert breached(t, "2027-01-12T17:01:00-05:00") == ["new"]
    (b,) = breaches([t], CAL, utc("2027-01-12T17:01:00-05:00"))
    assert b.deadline == utc("2027-01-12T17:00:00-05:00") and b.waited == timedelta(hours=7, minutes=1)


def test_after_5_pm_or_on_a_day_off_it_is_due_the_next_business_day():
    evening = ticket("new", "2027-01-12T18:30:00-05:00")
    assert breached(evening, "2027-01-13T16:00:00-05:00") == []
    assert breached(evening, "2027-01-13T17:30:00-05:00") == ["new"]
    saturday = ticket("new", "2027-01-16T09:00:00-05:00")  # Monday the 18th is MLK Day
    assert breached(saturday, "2027-01-18T18:00:00-05:00") == []
    assert breached(saturday, "2027-01-19T17:01:00-05:00") == ["new"]


def test_an_open_ticket_waits_at_most_one_business_day_from_its_last_update():
    friday = ticket("open", "2027-01-04T09:00:00-05:00", updated="2027-01-08T15:00:00-05:00")
    assert breached(friday, "2027-01-11T14:59:00-05:00") == []  # the weekend does not count
    assert breached(friday, "2027-01-11T15:01:00-05:00") == ["open"]


def test_pending_tickets_older_than_five_days_are_reported():
    t = ticket("pending", "2027-01-01T09:00:00-05:00", updated="2027-01-04T09:00:00-05:00")
    assert breached(t, "2027-01-09T08:00:00-05:00") == []
    assert breached(t, "2027-01-09T10:00:00-05:00") == ["pending"]


def test_hold_solved_and_closed_are_nobodys_breach_and_the_longest_wait_comes_first():
    at = "2027-02-01T12:00:00-05:00"
    assert breaches([ticket("hold", "2027-01-01T09:00:00Z"), ticket("solved", "2027-01-01T09:00:00Z")], CAL, utc(at)) == []
    old, older = ticket("new", "2027-01-20T09:00:00Z", id=2), ticket("new", "2027-01-10T09:00:00Z", id=3)
    assert [b.ticket.id for b in breaches([old, older], CAL, utc(at))] == [3, 2]


def test_last_weeks_unresolved_tickets():
    start, end = utc("2027-01-04T00:00:00-05:00"), utc("2027-01-11T00:00:00-05:00")
    tickets = [ticket("open", "2027-01-05T10:00:00-05:00", id=1), ticket("solved", "2027-01-05T10:00:00-05:00", id=2),
               ticket("new", "2027-01-11T08:00:00-05:00", id=3), ticket("pending", "2027-01-03T23:00:00-05:00", id=4)]
    assert [t.id for t in unresolved_between(tickets, start, end)] == [1]
