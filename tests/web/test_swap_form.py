"""Swaps on the page: a swap that would not apply is refused with its reason,
one that forces four weeks running is saved with a warning."""

from rosterkit import team, yaml_text
from webkit import change, sign_in


def test_the_page_refuses_a_swap_that_would_not_apply_and_says_why(client, roster):
    # It is the week of 2027-01-11: Cy's stint has begun. Taking Di's stint of 2027-01-18 in
    # exchange for Cy's of 2027-02-08 would put Cy on support twice in the week of 2027-01-18.
    sign_in(client)
    before = roster.read_text()
    for step in ("preview", "save"):
        response = change(client, step, "swap", week="2027-01-18", with_week="2027-02-08")
        assert response.status_code == 400
        assert ("swap of Di (week of 2027-01-18) and Cy (week of 2027-02-08) ignored: Cy would be on support twice "
                "in the week of 2027-01-18: their stint of the week of 2027-01-11 has begun") in response.get_data(as_text=True)
    assert roster.read_text() == before


def test_the_page_warns_when_a_swap_forces_four_weeks_running_and_saves_it(client, roster):
    roster.write_text(yaml_text(team("Ada", "Bob", "Cy", holidays="US")))
    sign_in(client)
    warning = ("Cy is on support four weeks running (stints of the weeks of 2027-01-11 and 2027-01-25): "
               "with the swaps, nobody else is available")
    preview = change(client, "preview", "swap", week="2027-01-25", with_week="2027-02-01")
    assert preview.status_code == 200 and warning in preview.get_data(as_text=True)
    assert change(client, "save", "swap", week="2027-01-25", with_week="2027-02-01").status_code == 302
    assert "bob@example.gov, with_week: 2027-02-01, with: cy@example.gov" in roster.read_text()
    assert warning in client.get("/").get_data(as_text=True)


def test_the_page_refuses_a_swap_that_would_keep_someone_on_four_weeks_while_others_are_free(client, roster):
    # Four members, Cy's stint of 2027-01-11 has begun: taking Ada's stint of 2027-01-25 for
    # Cy's of 2027-02-08 would keep Cy on from 01-11 to 02-07 while Ada, Bob and Di are free.
    sign_in(client)
    before = roster.read_text()
    response = change(client, "save", "swap", week="2027-01-25", with_week="2027-02-08")
    assert response.status_code == 400
    assert ("Cy would be on support four weeks running (stints of the weeks of 2027-01-11 and 2027-01-25) "
            "while others are free") in response.get_data(as_text=True)
    assert roster.read_text() == before
