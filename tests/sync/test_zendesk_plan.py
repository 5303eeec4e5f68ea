"""The pure group plan: who to add, who to remove, what to leave alone."""

from scheduler.sync.zendesk.plan import Account, Membership, Wanted, plan_group

ADA = Account(1, "ada@example.gov", "Ada", "agent")
BOB = Account(2, "bob@example.gov", "Bob", "admin")
CY = Account(3, "cy@example.gov", "Cy", "agent")
TESS = Account(9, "tess@example.gov", "Tess", "agent")
OWNED = {"ada@example.gov", "bob@example.gov", "cy@example.gov"}


def want(*accounts):
    return [Wanted(a.email, a.name, a) for a in accounts]


def group(*accounts):
    return [Membership(100 + i, a) for i, a in enumerate(accounts)]


def test_a_group_that_matches_plans_nothing():
    plan = plan_group("G", want(ADA, BOB), group(BOB, ADA, TESS), OWNED, set())
    assert plan.matches and plan.changes == []
    assert [m.account for m in plan.keep] == [BOB, ADA] and [m.account for m in plan.untouched] == [TESS]


def test_a_handoff_adds_one_and_removes_one_and_adds_come_first():
    plan = plan_group("G", want(BOB, CY), group(ADA, BOB, TESS), OWNED, set())
    assert [c.data()["action"] for c in plan.changes] == ["add", "remove"]
    assert plan.adds[0].account == CY and plan.removes[0].membership.account == ADA
    assert str(plan.adds[0]) == "+ add Cy <cy@example.gov> (user 3; on support)"
    assert str(plan.removes[0]) == "- remove Ada <ada@example.gov> (user 1, membership 100)"


def test_only_owned_people_are_removed_unless_the_group_is_exclusive():
    assert plan_group("G", want(BOB), group(BOB, TESS), OWNED, set()).removes == []
    exclusive = plan_group("G", want(BOB), group(BOB, TESS), OWNED, set(), exclusive=True)
    assert [r.membership.account for r in exclusive.removes] == [TESS]
    by_id = plan_group("G", want(BOB), group(BOB, TESS), set(), {9})
    assert [r.membership.account for r in by_id.removes] == [TESS]


def test_people_who_cannot_join_are_problems_and_the_rest_still_applies():
    end_user = Account(4, "di@example.gov", "Di", "end-user")
    wanted = [Wanted("zed@example.gov", "Zed", None), Wanted("di@example.gov", "Di", end_user), *want(CY)]
    plan = plan_group("G", wanted, group(ADA), OWNED, set())
    assert [str(p) for p in plan.problems] == [
        "! cannot add Zed <zed@example.gov>: no such user (by zendesk_id, else exact email)",
        "! cannot add Di <di@example.gov>: user 4 is an end-user, not an agent",
    ]
    assert [a.account for a in plan.adds] == [CY] and len(plan.removes) == 1
    assert not plan.matches


def test_emptying_the_group_is_flagged_and_a_duplicate_membership_is_removed():
    assert plan_group("G", [], group(ADA, BOB), OWNED, set()).empties_group
    assert not plan_group("G", [], group(ADA, TESS), OWNED, set()).empties_group
    twice = plan_group("G", want(ADA), [Membership(1, ADA), Membership(2, ADA)], OWNED, set())
    assert [m.id for m in twice.keep] == [1] and [r.membership.id for r in twice.removes] == [2]
