"""Planning a group sync: the people who should be in a group (the pair on
support) against the memberships it has. Pure: the adapter reads the group,
this decides, the adapter applies.

The contract:

* rota owns only people it knows: roster members (and people in the
  record). Anyone else in the group is left alone, unless the roster says
  the group is `exclusive`.
* A person who should be in the group but cannot be (no such user, not an
  agent) is a `Problem` for that person; the rest of the plan still applies.
* Adds come before removes, so the group is never emptier than it must be;
  a plan that would leave the group empty is `unsafe` and needs --force.
* A plan computed against a group that already matches is empty: a second
  sync changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

AGENT_ROLES = ("agent", "admin")


@dataclass(frozen=True)
class Account:
    """A user in the outside system."""

    id: int
    email: str | None
    name: str | None = None
    role: str | None = None

    @property
    def can_join(self) -> bool:
        return self.role in AGENT_ROLES


@dataclass(frozen=True)
class Membership:
    id: int
    account: Account


@dataclass(frozen=True)
class Wanted:
    """Someone who should be in the group: a roster member on support."""

    email: str
    name: str
    account: Account | None  # None: no user with this email
    why: str = "on support"


@dataclass(frozen=True)
class Add:
    wanted: Wanted

    @property
    def account(self) -> Account:
        return self.wanted.account

    def __str__(self) -> str:
        return f"+ add {self.wanted.name} <{self.wanted.email}> (user {self.account.id}; {self.wanted.why})"

    def data(self) -> dict:
        return {"action": "add", "email": self.wanted.email, "user_id": self.account.id}


@dataclass(frozen=True)
class Remove:
    membership: Membership
    name: str

    def __str__(self) -> str:
        account = self.membership.account
        return f"- remove {self.name} <{account.email}> (user {account.id}, membership {self.membership.id})"

    def data(self) -> dict:
        account = self.membership.account
        return {"action": "remove", "email": account.email, "user_id": account.id, "membership_id": self.membership.id}


@dataclass(frozen=True)
class Problem:
    email: str
    name: str
    message: str

    def __str__(self) -> str:
        return f"! cannot add {self.name} <{self.email}>: {self.message}"

    def data(self) -> dict:
        return {"action": "problem", "email": self.email, "message": self.message}


@dataclass
class GroupPlan:
    group: str
    keep: list[Membership] = field(default_factory=list)
    adds: list[Add] = field(default_factory=list)
    removes: list[Remove] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    untouched: list[Membership] = field(default_factory=list)  # not rota's to change

    @property
    def changes(self) -> list[Add | Remove]:
        return [*self.adds, *self.removes]

    @property
    def empties_group(self) -> bool:
        return bool(self.removes) and not (self.keep or self.adds or self.untouched)

    @property
    def unsafe(self) -> bool:
        """The safety limit: leaving the group empty looks like a mistake
        (a wrong roster) and needs --force."""
        return self.empties_group

    @property
    def matches(self) -> bool:
        """The group holds exactly who it should (as far as rota owns it)."""
        return not (self.changes or self.problems)

    def data(self) -> dict:
        return {
            "group": self.group,
            "keep": [m.account.email for m in self.keep],
            "changes": [c.data() for c in self.changes],
            "problems": [p.data() for p in self.problems],
            "untouched": [m.account.id for m in self.untouched],
        }


def plan_group(
    group: str,
    wanted: list[Wanted],
    memberships: list[Membership],
    owned_emails: set[str],
    owned_ids: set[int],
    exclusive: bool = False,
) -> GroupPlan:
    """What to add and remove so that the group holds exactly `wanted`
    (and whoever rota does not own)."""
    plan = GroupPlan(group)
    wanted_ids: dict[int, Wanted] = {}
    for w in wanted:
        if w.account is None:
            plan.problems.append(Problem(w.email, w.name, "no such user (by zendesk_id, else exact email)"))
        elif not w.account.can_join:
            role = w.account.role or "unknown"
            plan.problems.append(Problem(w.email, w.name, f"user {w.account.id} is an {role}, not an agent"))
        else:
            wanted_ids[w.account.id] = w

    present: set[int] = set()
    for membership in memberships:
        account = membership.account
        if account.id in wanted_ids and account.id not in present:
            plan.keep.append(membership)
            present.add(account.id)
        elif exclusive or account.id in owned_ids or (account.email or "").lower() in owned_emails:
            plan.removes.append(Remove(membership, account.name or account.email or f"user {account.id}"))
        else:
            plan.untouched.append(membership)
    plan.adds = [Add(w) for uid, w in wanted_ids.items() if uid not in present]
    return plan
