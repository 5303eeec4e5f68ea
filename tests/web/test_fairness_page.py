"""The Fairness page: the hand-computed example of tests/core/test_fairness.py
as a table and an SVG bar chart (one bar per member, each with a title, the
mean marked), the monthly CSV download, and what it does with bad input."""

import csv
import html
import io
import re
import xml.etree.ElementTree as ET

import pytest
from rosterkit import yaml_text

from core.test_fairness import EXAMPLE
from web import create_app
from webkit import Clock

SVG = "{http://www.w3.org/2000/svg}"
SPAN = "?from=2027-01-04&to=2027-02-28"


@pytest.fixture
def example(roster):
    roster.write_text(yaml_text(EXAMPLE))
    return roster


@pytest.fixture
def clock():
    return Clock("2027-02-10T17:00:00Z")  # noon in New York, Wednesday of week 5


def chart_of(page: str) -> ET.Element:
    return ET.fromstring(re.search(r"<svg .*?</svg>", page, re.S).group(0))


def test_the_page_shows_the_table_and_a_bar_per_member(example, client):
    response = client.get("/fairness/" + SPAN)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<a href="/fairness/">Fairness</a>' in page  # in the nav
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>((?:\s*<td>[^<]*</td>)+)</tr>', page)
    cells = {name: re.findall(r"<td>([^<]*)</td>", tds) for name, tds in rows}
    # by hand: stints, support, weekend, holiday, holiday handoffs, covering wks, covered wks, days on the team,
    # expected (16/27 x days), difference
    assert cells == {
        "Ada": ["3", "37", "10", "1", "1", "1", "0", "56", "33.2", "+3.8"],
        "Bob": ["3", "39", "12", "1", "2", "0", "1", "56", "33.2", "+5.8"],
        "Cy": ["1", "14", "4", "1", "0", "0", "0", "42", "24.9", "-10.9"],
        "Di": ["2", "22", "6", "1", "1", "0", "0", "35", "20.7", "+1.3"],
    }
    svg = chart_of(page)
    bars = svg.findall(f".//{SVG}rect[@class='bar']")
    assert [b.get("data-member") for b in bars] == ["ada@example.gov", "bob@example.gov", "cy@example.gov",
                                                     "di@example.gov"]
    titles = [b.find(f"{SVG}title").text for b in bars]
    assert titles[2] == "Cy: 14 support days, 1 stint; mean for their time on the team 24.9, difference -10.9"
    # the longest bar is Bob's 39 days; Cy's is 14/39 of it
    widths = [float(b.get("width")) for b in bars]
    assert max(widths) == widths[1] and widths[2] == pytest.approx(widths[1] * 14 / 39, abs=0.1)
    means = svg.findall(f".//{SVG}line[@class='mean']")
    assert len(means) == 4 + 1  # one per member on the roster, and the legend's


def test_the_monthly_csv_downloads(example, client):
    response = client.get("/fairness/days.csv" + SPAN)
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="team-support-days-2027-01-04-2027-02-28.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8"), newline="")))
    assert [(r["email"], r["month"], r["support_days"]) for r in rows] == [
        ("ada@example.gov", "2027-01", "20"), ("ada@example.gov", "2027-02", "17"),
        ("bob@example.gov", "2027-01", "22"), ("bob@example.gov", "2027-02", "17"),
        ("cy@example.gov", "2027-01", "14"), ("cy@example.gov", "2027-02", "0"),
        ("di@example.gov", "2027-01", "0"), ("di@example.gov", "2027-02", "22"),
    ]
    page = client.get("/fairness/" + SPAN).get_data(as_text=True)
    assert 'href="/fairness/days.csv?from=2027-01-04&amp;to=2027-02-28" download' in page


def test_the_default_span_is_12_months_back_to_6_ahead(example, client):
    page = client.get("/fairness/").get_data(as_text=True)
    assert 'name="from" type="date" value="2026-02-10"' in page and 'name="to" type="date" value="2027-08-10"' in page


def test_names_are_escaped_in_the_table_and_the_chart(roster, client):
    data = dict(EXAMPLE)
    data["members"] = [dict(EXAMPLE["members"][0], name='<script>alert("x")</script> & Co'), *EXAMPLE["members"][1:]]
    roster.write_text(yaml_text(data))
    page = client.get("/fairness/" + SPAN).get_data(as_text=True)
    assert "<script>" not in page
    assert html.escape('<script>alert("x")</script> & Co', quote=False) in page
    svg = chart_of(page)  # still well-formed XML
    assert svg.find(f".//{SVG}rect[@class='bar']/{SVG}title").text.startswith('<script>alert("x")</script> & Co: 37')


@pytest.mark.parametrize("query, message", [
    ("?from=2027-02-30", "from: &#39;2027-02-30&#39; is not a date (YYYY-MM-DD)"),
    ("?from=2027-03-01&to=2027-02-01", "to: 2027-02-01 is before from: 2027-03-01"),
    ("?from=1990-01-01&to=2027-01-01", "the span may be at most 20 years"),
])
def test_a_bad_span_is_a_400_that_says_why(example, client, query, message):
    response = client.get("/fairness/" + query)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    response = client.get("/fairness/days.csv" + query)
    assert response.status_code == 400 and response.content_type.startswith("text/plain")


def test_a_private_team_asks_to_sign_in(example, clock):
    app = create_app({"TESTING": True, "ROSTER": str(example), "SECRET_KEY": "k", "CLOCK": clock, "PRIVATE": True})
    for url in ("/fairness/", "/fairness/days.csv"):
        response = app.test_client().get(url)
        assert response.status_code == 302 and "/signin" in response.headers["Location"]


def test_a_private_team_shows_it_to_its_members_and_refuses_strangers(roster, clock, oidc_provider):
    from oidckit import PUBLIC_URL, sign_in

    app = create_app({"TESTING": True, "ROSTER": str(roster), "SECRET_KEY": "test-secret", "CLOCK": clock,
                      "PUBLIC_URL": PUBLIC_URL, "OIDC": oidc_provider.settings, "PRIVATE": True})
    member, stranger = app.test_client(), app.test_client()
    sign_in(member, "ada@example.gov")
    assert member.get("/fairness/").status_code == 200
    assert member.get("/fairness/days.csv").status_code == 200
    sign_in(stranger, "zed@example.gov")
    assert stranger.get("/fairness/").status_code == 403
