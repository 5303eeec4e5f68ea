"""The fake Google behaves like the documented token endpoint and Calendar API,
as google-auth 2.63 and google-api-python-client 2.202 see them.

Driven through the libraries themselves, set up exactly as rota sets them up,
and through raw ``requests`` where the libraries hide a detail (status lines,
headers, wire formats).  No test really sleeps: googleapiclient's retry
backoff is recorded instead (see ``sleeps``).
"""

import base64
import json
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import google.auth
import googleapiclient.http
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.exceptions import RefreshError
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from fakes.google import CLIENT_EMAIL, GOOGLE_TOKEN_URI, FakeGoogle, Seen

CAL = "team@group.calendar.google.com"
SCOPE = "https://www.googleapis.com/auth/calendar"
EVENTS_PATH = f"/calendar/v3/calendars/{CAL}/events"
DELEGATE = "delegate@agency.gov"


def credentials(info, subject=None, scopes=(SCOPE,)):
    creds = service_account.Credentials.from_service_account_info(info, scopes=list(scopes))
    return creds.with_subject(subject) if subject else creds


def make_service(fake, creds):
    return build("calendar", "v3", credentials=creds, static_discovery=True,
                 cache_discovery=False,
                 client_options={"api_endpoint": fake.url + "/calendar/v3/"})


def event(eid, start="2027-01-04T09:00:00-08:00", end="2027-01-04T10:00:00-08:00", **fields):
    return {"id": eid, "summary": f"Support {eid}", "start": {"dateTime": start},
            "end": {"dateTime": end}, **fields}


def tagged(eid, team="platform-experts", **fields):
    return event(eid, extendedProperties={"private": {"rota": team}}, **fields)


def reason(error: HttpError) -> str:
    return error.error_details[0]["reason"]


@pytest.fixture
def fake():
    with FakeGoogle() as server:
        yield server


@pytest.fixture
def service(fake):
    with make_service(fake, credentials(fake.service_account_info())) as svc:
        yield svc


@pytest.fixture
def delegated(fake):
    with make_service(fake, credentials(fake.service_account_info(), DELEGATE)) as svc:
        yield svc


@pytest.fixture
def sleeps(monkeypatch):
    """googleapiclient sleeps rand() * 2**n between retries; record it instead.
    HttpRequest captures time.sleep when built, so patch before building."""
    slept = []
    monkeypatch.setattr(googleapiclient.http.time, "sleep", slept.append)
    return slept


def new_batch(fake, results):
    return BatchHttpRequest(callback=lambda rid, resp, exc: results.append((rid, resp, exc)),
                            batch_uri=fake.url + "/batch/calendar/v3")


# ---- token endpoint ---------------------------------------------------------

def test_service_account_gets_a_token_and_lists_events(fake, service):
    fake.add_event(CAL, tagged("seeded01"))
    listing = service.events().list(calendarId=CAL,
                                    privateExtendedProperty="rota=platform-experts",
                                    showDeleted=True, maxResults=2500).execute()
    assert listing["kind"] == "calendar#events" and listing["timeZone"] == "America/Los_Angeles"
    assert [e["id"] for e in listing["items"]] == ["seeded01"]
    assert fake.tokens_issued == [{"token": fake.tokens_issued[0]["token"], "sub": None,
                                   "scope": SCOPE, "iss": CLIENT_EMAIL}]
    assert [(s.method, s.path) for s in fake.http_requests()] == [("POST", "/token"),
                                                                  ("GET", EVENTS_PATH)]
    token_request = fake.requests[0]
    assert token_request.body["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    # googleapiclient adds alt=json; repeated parameters keep every value
    assert fake.requests[1].query["alt"] == ["json"]
    assert fake.requests[1].query["privateExtendedProperty"] == ["rota=platform-experts"]


def test_token_wire_format_and_jwt_audience(fake):
    creds = credentials(fake.service_account_info())
    assertion = creds._make_authorization_grant_assertion()
    claims = json.loads(base64.urlsafe_b64decode(assertion.split(b".")[1] + b"=="))
    # google-auth keeps Google's audience even though token_uri points at the fake
    assert claims["aud"] == GOOGLE_TOKEN_URI and claims["iss"] == CLIENT_EMAIL
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
    first = requests.post(fake.url + "/token", data=form)
    second = requests.post(fake.url + "/token", data=form)
    assert first.status_code == 200
    assert first.headers["Content-Type"].startswith("application/json")
    assert set(first.json()) == {"access_token", "expires_in", "token_type"}
    assert first.json()["expires_in"] == 3600 and first.json()["token_type"] == "Bearer"
    assert first.json()["access_token"] != second.json()["access_token"]
    wrong_grant = requests.post(fake.url + "/token", data={**form, "grant_type": "password"})
    assert wrong_grant.status_code == 400
    assert wrong_grant.json()["error"] == "unsupported_grant_type"


def test_with_subject_records_the_delegated_user(fake, delegated):
    delegated.events().list(calendarId=CAL).execute()
    assert [t["sub"] for t in fake.tokens_issued] == [DELEGATE]


def other_key_pem():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.mark.parametrize("tamper, description", [
    (lambda info: {**info, "private_key": other_key_pem()}, "Invalid JWT Signature."),
    (lambda info: {**info, "client_email": "intruder@rota-test.iam.gserviceaccount.com"},
     "Invalid grant: account not found"),
])
def test_a_tampered_key_is_refused(fake, tamper, description):
    creds = credentials(tamper(fake.service_account_info()))
    with make_service(fake, creds) as svc, pytest.raises(RefreshError) as raised:
        svc.events().list(calendarId=CAL).execute()
    assert raised.value.args[0] == f"invalid_grant: {description}"
    assert fake.tokens_issued == [] and [s.path for s in fake.requests] == ["/token"]


def test_a_tampered_assertion_is_refused(fake):
    header, claims, signature = credentials(fake.service_account_info()) \
        ._make_authorization_grant_assertion().decode().split(".")
    forged = json.loads(base64.urlsafe_b64decode(claims + "=="))
    forged["sub"] = "ceo@agency.gov"
    forged_b64 = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    answer = requests.post(fake.url + "/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": f"{header}.{forged_b64}.{signature}"})
    assert answer.status_code == 400
    assert answer.json() == {"error": "invalid_grant",
                             "error_description": "Invalid JWT Signature."}


def test_an_expired_assertion_is_refused():
    with FakeGoogle(now=lambda: 4_000_000_000) as fake:  # the year 2096
        with make_service(fake, credentials(fake.service_account_info())) as svc:
            with pytest.raises(RefreshError, match="short-lived token"):
                svc.events().list(calendarId=CAL).execute()


def test_calendar_calls_need_a_token_the_fake_issued(fake):
    url = fake.url + "/calendar/v3/calendars/team%40group.calendar.google.com/events"
    for headers in ({}, {"Authorization": "Bearer ya29.made-up"}):
        answer = requests.get(url, headers=headers)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert answer.json() == {"error": {
            "code": 401, "message": "Request had invalid authentication credentials.",
            "errors": [{"domain": "global", "reason": "authError",
                        "message": "Invalid Credentials",
                        "locationType": "header", "location": "Authorization"}],
            "status": "UNAUTHENTICATED"}}


def test_an_expired_token_makes_the_client_refresh(fake, service):
    service.events().list(calendarId=CAL).execute()
    fake.expire_tokens()
    service.events().list(calendarId=CAL).execute()  # google-auth-httplib2 refreshes on 401
    assert len(fake.tokens_issued) == 2
    assert [(s.path, s.status) for s in fake.requests] == [
        ("/token", 200), (EVENTS_PATH, 200), (EVENTS_PATH, 401), ("/token", 200),
        (EVENTS_PATH, 200)]


def test_a_read_only_scope_reads_but_cannot_write(fake):
    creds = credentials(fake.service_account_info(), scopes=[SCOPE + ".readonly"])
    with make_service(fake, creds) as svc:
        assert svc.events().list(calendarId=CAL).execute()["items"] == []
        with pytest.raises(HttpError) as raised:
            svc.events().insert(calendarId=CAL, body=event("abcde")).execute()
    assert raised.value.status_code == 403 and reason(raised.value) == "insufficientPermissions"


def test_key_file_for_application_default_credentials(fake, tmp_path, monkeypatch):
    path = fake.write_key_file(tmp_path / "key.json")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    creds, project = google.auth.default(scopes=[SCOPE])
    assert project == "rota-test" and creds.service_account_email == CLIENT_EMAIL
    with make_service(fake, creds) as svc:
        assert svc.events().list(calendarId=CAL).execute()["items"] == []


# ---- events: round trip and ids -----------------------------------------------

def test_insert_get_update_patch_delete_round_trip(fake, service):
    events = service.events()
    body = tagged("rota0001", description="first")
    created = events.insert(calendarId=CAL, body=body, sendUpdates="none").execute()
    assert created["kind"] == "calendar#event" and created["status"] == "confirmed"
    assert created["iCalUID"] == "rota0001@google.com" and created["sequence"] == 0
    assert created["etag"].startswith('"') and created["etag"].endswith('"')
    assert created["organizer"]["email"] == CAL and created["creator"]["email"] == CLIENT_EMAIL
    assert created["htmlLink"].startswith("https://www.google.com/calendar/event?eid=")
    assert created["extendedProperties"] == {"private": {"rota": "platform-experts"}}
    assert events.get(calendarId=CAL, eventId="rota0001").execute() == created

    updated = events.update(calendarId=CAL, eventId="rota0001",
                            body={**body, "summary": "Renamed"}).execute()
    assert updated["summary"] == "Renamed" and "description" in updated  # body had it
    replaced = events.update(calendarId=CAL, eventId="rota0001",
                             body=event("rota0001", summary="Bare")).execute()
    assert "description" not in replaced and "extendedProperties" not in replaced
    assert replaced["sequence"] == 2 and replaced["created"] == created["created"]
    assert len({created["etag"], updated["etag"], replaced["etag"]}) == 3

    patched = events.patch(calendarId=CAL, eventId="rota0001", body={
        "description": "patched",
        "extendedProperties": {"private": {"week": "2027-01"}}}).execute()
    assert patched["summary"] == "Bare" and patched["description"] == "patched"
    assert patched["extendedProperties"] == {"private": {"week": "2027-01"}}
    patched = events.patch(calendarId=CAL, eventId="rota0001", body={
        "extendedProperties": {"private": {"rota": "platform-experts"}}}).execute()
    # objects merge key by key under patch semantics
    assert patched["extendedProperties"]["private"] == {"week": "2027-01",
                                                        "rota": "platform-experts"}
    assert patched["sequence"] == 4 and patched["updated"] > created["updated"]

    assert events.delete(calendarId=CAL, eventId="rota0001", sendUpdates="none").execute() == ""
    gone = events.get(calendarId=CAL, eventId="rota0001").execute()
    assert gone["status"] == "cancelled" and gone["summary"] == "Bare"
    assert [(w.method, w.status) for w in fake.writes()] == [
        ("POST", 200), ("PUT", 200), ("PUT", 200), ("PATCH", 200), ("PATCH", 200), ("DELETE", 204)]
    assert fake.writes()[0].query["sendUpdates"] == ["none"]
    assert fake.writes()[0].body == body


def test_delete_answers_204_without_a_body(fake, service):
    service.events().insert(calendarId=CAL, body=event("abcde")).execute()
    token = fake.tokens_issued[0]["token"]
    answer = requests.delete(f"{fake.url}{EVENTS_PATH}/abcde",
                             headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 204 and answer.content == b""
    assert "Content-Length" not in answer.headers


@pytest.mark.parametrize("eid", ["abcdw", "abczz", "abcd", "ABCDE", "abc-de", "rota_0001",
                                 "a" * 1025])
def test_ids_outside_base32hex_are_400(fake, service, eid):
    with pytest.raises(HttpError) as raised:
        service.events().insert(calendarId=CAL, body=event(eid)).execute()
    assert raised.value.status_code == 400 and reason(raised.value) == "invalid"
    assert raised.value.reason == "Invalid resource id value."
    assert fake.events[CAL] == {}


def test_every_base32hex_character_is_allowed_and_ids_may_be_left_out(fake, service):
    eid = "0123456789abcdefghijklmnopqrstuv"
    assert service.events().insert(calendarId=CAL, body=event(eid)).execute()["id"] == eid
    body = event("x")
    del body["id"]
    generated = service.events().insert(calendarId=CAL, body=body).execute()["id"]
    assert generated in fake.events[CAL] and generated != eid


def test_reinsert_is_409_even_after_delete(fake, service):
    events = service.events()
    events.insert(calendarId=CAL, body=event("abcde")).execute()
    with pytest.raises(HttpError) as live:
        events.insert(calendarId=CAL, body=event("abcde")).execute()
    events.delete(calendarId=CAL, eventId="abcde").execute()
    with pytest.raises(HttpError) as deleted:
        events.insert(calendarId=CAL, body=event("abcde")).execute()
    for raised in (live, deleted):
        assert raised.value.status_code == 409 and reason(raised.value) == "duplicate"
        assert raised.value.reason == "The requested identifier already exists."
    assert fake.events[CAL]["abcde"]["status"] == "cancelled"


def test_deleting_a_deleted_event_is_410_and_unknown_ids_404(fake, service):
    events = service.events()
    events.insert(calendarId=CAL, body=event("abcde")).execute()
    events.delete(calendarId=CAL, eventId="abcde").execute()
    with pytest.raises(HttpError) as raised:
        events.delete(calendarId=CAL, eventId="abcde").execute()
    assert raised.value.status_code == 410 and reason(raised.value) == "deleted"
    assert raised.value.reason == "Resource has been deleted"
    for call in (events.get(calendarId=CAL, eventId="nosuch1"),
                 events.delete(calendarId=CAL, eventId="nosuch1"),
                 events.patch(calendarId=CAL, eventId="nosuch1", body={"summary": "x"}),
                 events.list(calendarId="other@group.calendar.google.com")):
        with pytest.raises(HttpError) as raised:
            call.execute()
        assert raised.value.status_code == 404 and reason(raised.value) == "notFound"


@pytest.mark.parametrize("how", ["update", "patch"])
def test_an_update_to_confirmed_restores_a_deleted_event(fake, service, how):
    events = service.events()
    events.insert(calendarId=CAL, body=tagged("abcde")).execute()
    events.delete(calendarId=CAL, eventId="abcde").execute()
    still = events.patch(calendarId=CAL, eventId="abcde", body={"summary": "edited"}).execute()
    assert still["status"] == "cancelled"  # only status "confirmed" restores
    if how == "update":
        restored = events.update(calendarId=CAL, eventId="abcde",
                                 body={**tagged("abcde"), "status": "confirmed"}).execute()
    else:
        restored = events.patch(calendarId=CAL, eventId="abcde",
                                body={"status": "confirmed"}).execute()
    assert restored["status"] == "confirmed"
    listed = events.list(calendarId=CAL, privateExtendedProperty="rota=platform-experts").execute()
    assert [e["id"] for e in listed["items"]] == ["abcde"]


# ---- times --------------------------------------------------------------------

def test_times_come_back_in_the_calendars_zone_as_the_same_instant(fake, service):
    body = event("abcde", start="2027-01-04T09:00:00+01:00", end="2027-01-04T10:00:00+01:00")
    body["start"]["timeZone"] = body["end"]["timeZone"] = "Europe/Berlin"
    created = service.events().insert(calendarId=CAL, body=body).execute()
    assert created["start"] == {"dateTime": "2027-01-04T00:00:00-08:00",
                                "timeZone": "Europe/Berlin"}
    assert created["end"]["dateTime"] == "2027-01-04T01:00:00-08:00"
    stored = fake.events[CAL]["abcde"]["start"]
    assert stored["dateTime"] == "2027-01-04T09:00:00+01:00"  # stored as given
    with FakeGoogle(calendars={CAL: "UTC"}) as utc_fake:
        with make_service(utc_fake, credentials(utc_fake.service_account_info())) as svc:
            assert svc.events().insert(calendarId=CAL, body=body).execute()["start"]["dateTime"] \
                == "2027-01-04T08:00:00Z"


def test_a_local_datetime_needs_a_time_zone(fake, service):
    local = {"id": "abcde",
             "start": {"dateTime": "2027-07-01T09:00:00", "timeZone": "Europe/London"},
             "end": {"dateTime": "2027-07-01T10:00:00", "timeZone": "Europe/London"}}
    created = service.events().insert(calendarId=CAL, body=local).execute()
    assert created["start"]["dateTime"] == "2027-07-01T01:00:00-07:00"  # BST to PDT
    del local["start"]["timeZone"]
    with pytest.raises(HttpError) as raised:
        service.events().insert(calendarId=CAL, body={**local, "id": "abcdf"}).execute()
    assert raised.value.status_code == 400
    assert raised.value.reason == "Missing time zone definition for start time."


@pytest.mark.parametrize("start, end", [
    ({"dateTime": "2027-01-04T10:00:00Z"}, {"dateTime": "2027-01-04T09:59:59Z"}),
    ({"date": "2027-01-04"}, {"date": "2027-01-04"}),
])
def test_an_end_before_the_start_is_400(fake, service, start, end):
    with pytest.raises(HttpError) as raised:
        service.events().insert(calendarId=CAL, body={"id": "abcde", "start": start,
                                                      "end": end}).execute()
    assert raised.value.status_code == 400 and reason(raised.value) == "timeRangeEmpty"
    assert raised.value.reason == "The specified time range is empty."


# ---- list: paging, filters, sync ------------------------------------------------

def test_paging_across_three_pages(fake, service):
    for n in range(7):
        fake.add_event(CAL, tagged(f"page{n:04d}"))
    request = service.events().list(calendarId=CAL, maxResults=3)
    pages = []
    while request is not None:
        page = request.execute()
        pages.append(page)
        request = service.events().list_next(request, page)
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert [e["id"] for p in pages for e in p["items"]] == [f"page{n:04d}" for n in range(7)]
    assert ["nextPageToken" in p for p in pages] == [True, True, False]
    assert ["nextSyncToken" in p for p in pages] == [False, False, True]
    assert [s.query.get("pageToken") is not None for s in fake.http_requests()[1:]] \
        == [False, True, True]


def test_max_results_defaults_to_250_and_is_clamped_to_2500(fake, service):
    for n in range(2501):
        fake.add_event(CAL, event(f"bulk{n:05d}"))
    assert len(service.events().list(calendarId=CAL).execute()["items"]) == 250
    clamped = service.events().list(calendarId=CAL, maxResults=5000).execute()
    assert len(clamped["items"]) == 2500 and "nextPageToken" in clamped


def test_private_extended_property_filter_excludes_foreign_events(fake, service):
    fake.add_event(CAL, tagged("ours1"))
    fake.add_event(CAL, event("ours2", extendedProperties={"private": {"rota": "platform-experts",
                                                                        "week": "2"}}))
    fake.add_event(CAL, tagged("other", team="database"))
    fake.add_event(CAL, event("human", creator={"email": "someone@agency.gov"}))
    fake.add_event(CAL, event("shared",
                              extendedProperties={"shared": {"rota": "platform-experts"}}))
    list_ = service.events().list
    ours = list_(calendarId=CAL, privateExtendedProperty="rota=platform-experts").execute()
    assert [e["id"] for e in ours["items"]] == ["ours1", "ours2"]
    both = list_(calendarId=CAL,
                 privateExtendedProperty=["rota=platform-experts", "week=2"]).execute()
    assert [e["id"] for e in both["items"]] == ["ours2"]
    shared = list_(calendarId=CAL, sharedExtendedProperty="rota=platform-experts").execute()
    assert [e["id"] for e in shared["items"]] == ["shared"]
    assert fake.events[CAL]["human"]["creator"] == {"email": "someone@agency.gov"}


def test_show_deleted(fake, service):
    fake.add_event(CAL, tagged("alive"))
    fake.add_event(CAL, tagged("dead1", status="cancelled"))
    list_ = service.events().list
    assert [e["id"] for e in list_(calendarId=CAL).execute()["items"]] == ["alive"]
    with_deleted = list_(calendarId=CAL, showDeleted=True).execute()["items"]
    assert [(e["id"], e["status"]) for e in with_deleted] == [("alive", "confirmed"),
                                                             ("dead1", "cancelled")]


def test_time_min_and_max_select_overlapping_events(fake, service):
    day = "2027-01-04T{}:00:00-08:00"
    spans = {"endsatmin": ("08", "09"), "startsatcap": ("17", "18"), "overlapsmin": ("08", "10"),
             "overlapscap": ("16", "18"), "contains": ("07", "19"), "inside": ("12", "13"),
             "before": ("06", "07")}
    for eid, (start, end) in spans.items():
        fake.add_event(CAL, event(eid, day.format(start), day.format(end)))
    fake.add_event(CAL, {"id": "dateevent", "start": {"date": "2027-01-04"},
                         "end": {"date": "2027-01-05"}})
    fake.add_event(CAL, {"id": "laterdate", "start": {"date": "2027-01-05"},
                         "end": {"date": "2027-01-06"}})
    found = service.events().list(calendarId=CAL, timeMin="2027-01-04T17:00:00Z",  # 09:00 PST
                                  timeMax=day.format("17")).execute()
    assert {e["id"] for e in found["items"]} == {"overlapsmin", "overlapscap", "contains",
                                                 "inside", "dateevent"}
    with pytest.raises(HttpError) as raised:
        service.events().list(calendarId=CAL, timeMin=day.format("17"),
                              timeMax=day.format("09")).execute()
    assert raised.value.status_code == 400 and reason(raised.value) == "timeRangeEmpty"
    with pytest.raises(HttpError) as raised:  # an offset is mandatory
        service.events().list(calendarId=CAL, timeMin="2027-01-04T09:00:00").execute()
    assert raised.value.status_code == 400


def test_sync_tokens(fake, service):
    events = service.events()
    events.insert(calendarId=CAL, body=tagged("first")).execute()
    events.insert(calendarId=CAL, body=tagged("second")).execute()
    full = events.list(calendarId=CAL).execute()
    token = full["nextSyncToken"]
    assert events.list(calendarId=CAL, syncToken=token).execute()["items"] == []
    events.delete(calendarId=CAL, eventId="first").execute()
    events.insert(calendarId=CAL, body=tagged("third")).execute()
    changed = events.list(calendarId=CAL, syncToken=token).execute()
    assert [(e["id"], e["status"]) for e in changed["items"]] == [("first", "cancelled"),
                                                                  ("third", "confirmed")]
    assert changed["nextSyncToken"] != token

    with pytest.raises(HttpError) as raised:
        events.list(calendarId=CAL, syncToken=token,
                    privateExtendedProperty="rota=platform-experts").execute()
    assert raised.value.status_code == 400 and reason(raised.value) == "invalid"
    for bad in ("not-a-token", full["nextSyncToken"] + "x"):
        with pytest.raises(HttpError) as raised:
            events.list(calendarId=CAL, syncToken=bad).execute()
        assert raised.value.status_code == 410 and reason(raised.value) == "fullSyncRequired"
    fake.expire_sync_tokens()
    with pytest.raises(HttpError) as raised:
        events.list(calendarId=CAL, syncToken=changed["nextSyncToken"]).execute()
    assert raised.value.reason == "Sync token is no longer valid, a full sync is required."


# ---- attendees ------------------------------------------------------------------

def test_attendees_need_domain_wide_delegation(fake, service, delegated):
    body = tagged("abcde", attendees=[{"email": "ada@agency.gov"}])
    with pytest.raises(HttpError) as raised:
        service.events().insert(calendarId=CAL, body=body, sendUpdates="all").execute()
    assert raised.value.status_code == 403
    assert reason(raised.value) == "forbiddenForServiceAccounts"
    assert raised.value.error_details[0]["domain"] == "calendar"
    assert fake.events[CAL] == {}
    created = delegated.events().insert(calendarId=CAL, body=body, sendUpdates="all").execute()
    assert created["attendees"] == [{"email": "ada@agency.gov", "responseStatus": "needsAction"}]
    assert created["creator"] == {"email": DELEGATE}
    with pytest.raises(HttpError) as raised:  # patching attendees in is refused the same way
        service.events().patch(calendarId=CAL, eventId="abcde",
                               body={"attendees": [{"email": "bob@agency.gov"}]}).execute()
    assert raised.value.status_code == 403
    patched = delegated.events().patch(calendarId=CAL, eventId="abcde", sendUpdates="none",
                                       body={"attendees": [{"email": "bob@agency.gov"}]}).execute()
    assert [a["email"] for a in patched["attendees"]] == ["bob@agency.gov"]  # replaced whole
    assert [w.query.get("sendUpdates") for w in fake.writes()] == [["all"], ["all"], None,
                                                                   ["none"]]
    assert [w.status for w in fake.writes()] == [403, 200, 403, 200]


# ---- batch ----------------------------------------------------------------------

def test_new_batch_http_request_ignores_api_endpoint(service):
    # Why rota passes batch_uri: the discovery helper builds it from rootUrl.
    assert service.new_batch_http_request()._batch_uri \
        == "https://www.googleapis.com/batch/calendar/v3"


def test_a_batch_of_60_is_refused_and_of_50_works(fake, service):
    results = []
    batch = new_batch(fake, results)
    for n in range(60):
        batch.add(service.events().insert(calendarId=CAL, body=tagged(f"b{n:04d}")))
    with pytest.raises(HttpError) as raised:
        batch.execute(http=service._http)
    assert raised.value.status_code == 400 and results == [] and fake.events[CAL] == {}
    assert fake.writes() == []

    batch = new_batch(fake, results)
    for n in range(50):
        batch.add(service.events().insert(calendarId=CAL, body=tagged(f"b{n:04d}"),
                                          sendUpdates="none"), request_id=f"week-{n}")
    batch.execute(http=service._http)
    assert [rid for rid, _, _ in results] == [f"week-{n}" for n in range(50)]
    assert all(exc is None and resp["id"] == f"b{n:04d}"
               for n, (_, resp, exc) in enumerate(results))
    assert len(fake.events[CAL]) == 50
    batch_posts = [s for s in fake.http_requests() if s.path == "/batch/calendar/v3"]
    assert [s.status for s in batch_posts] == [400, 200]
    parts = [s for s in fake.requests if s.batch == "batch-1"]
    assert len(parts) == 50 and all(p.query["sendUpdates"] == ["none"] for p in parts)


def test_per_part_results_reach_per_part_callbacks(fake, service):
    events = service.events()
    events.insert(calendarId=CAL, body=tagged("present")).execute()
    seen = {}
    batch = BatchHttpRequest(batch_uri=fake.url + "/batch/calendar/v3")

    def keep(rid, resp, exc):
        seen[rid] = (resp, exc)

    batch.add(events.insert(calendarId=CAL, body=tagged("fresh")), callback=keep, request_id="new")
    batch.add(events.insert(calendarId=CAL, body=tagged("present")), callback=keep,
              request_id="dup")
    batch.add(events.get(calendarId=CAL, eventId="fresh"), callback=keep, request_id="get")
    batch.add(events.delete(calendarId=CAL, eventId="present"), callback=keep, request_id="del")
    batch.add(events.patch(calendarId=CAL, eventId="nosuch", body={}), callback=keep,
              request_id="404 me")
    batch.execute(http=service._http)
    assert seen["new"][0]["id"] == "fresh" and seen["new"][1] is None
    assert seen["dup"][0] is None and seen["dup"][1].status_code == 409
    assert reason(seen["dup"][1]) == "duplicate"
    assert seen["get"][0]["id"] == "fresh"  # parts run in order against one state
    assert seen["del"] == ("", None)  # a 204 part
    assert seen["404 me"][1].status_code == 404  # request ids are quoted in Content-IDs
    assert fake.events[CAL]["present"]["status"] == "cancelled"


def test_a_fault_in_one_part_fails_only_that_part(fake, service, sleeps):
    fake.fail_next(403, in_batch=True, method="POST", skip=2)
    results = []
    batch = new_batch(fake, results)
    for n in range(5):
        batch.add(service.events().insert(calendarId=CAL, body=tagged(f"part{n}")))
    batch.execute(http=service._http)
    failed = [(rid, exc) for rid, _, exc in results if exc is not None]
    assert [rid for rid, _ in failed] == ["3"]
    assert failed[0][1].status_code == 403 and reason(failed[0][1]) == "rateLimitExceeded"
    assert sorted(fake.events[CAL]) == ["part0", "part1", "part3", "part4"]
    assert sleeps == []  # batches are never retried by googleapiclient


def test_a_whole_batch_503(fake, service):
    fake.fail_next(503, in_batch=False, path_contains="/batch")
    batch = new_batch(fake, results := [])
    batch.add(service.events().insert(calendarId=CAL, body=tagged("abcde")))
    with pytest.raises(HttpError) as raised:
        batch.execute(http=service._http)
    assert raised.value.status_code == 503 and results == []
    assert fake.events[CAL] == {} and fake.writes() == []


def test_batch_parts_with_expired_tokens_are_redone_after_a_refresh(fake, service):
    service.events().list(calendarId=CAL).execute()
    fake.expire_tokens()
    batch = new_batch(fake, results := [])
    for n in range(3):
        batch.add(service.events().insert(calendarId=CAL, body=tagged(f"redo{n}")))
    batch.execute(http=service._http)
    assert all(exc is None for _, _, exc in results) and len(fake.events[CAL]) == 3
    assert [s.status for s in fake.requests if s.batch] == [401] * 3 + [200] * 3
    assert len(fake.tokens_issued) == 2


def test_batch_wire_format(fake, service):
    service.events().list(calendarId=CAL).execute()
    token = fake.tokens_issued[0]["token"]
    insert = json.dumps(tagged("direct01"))
    body = (
        "--xyz\r\nContent-Type: application/http\r\nContent-ID: <item1>\r\n\r\n"
        f"POST {EVENTS_PATH} HTTP/1.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(insert)}\r\n\r\n{insert}\r\n"
        "--xyz\r\nContent-Type: application/http\r\nContent-ID: <item2>\r\n\r\n"
        f"GET {EVENTS_PATH}/nosuch1 HTTP/1.1\r\nAuthorization: Bearer ya29.wrong\r\n\r\n\r\n"
        "--xyz--\r\n")
    answer = requests.post(fake.url + "/batch/calendar/v3", data=body.encode(), headers={
        "Content-Type": "multipart/mixed; boundary=xyz", "Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    content_type = answer.headers["Content-Type"]
    assert content_type.startswith("multipart/mixed; boundary=batch_")
    boundary = content_type.split("boundary=")[1]
    chunks = answer.text.split(f"--{boundary}")
    assert chunks[0] == "" and chunks[-1] == "--\r\n" and len(chunks) == 4
    first, second = chunks[1], chunks[2]
    assert "Content-Type: application/http\r\nContent-ID: <response-item1>\r\n\r\n" in first
    assert "\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\n" in first
    assert json.loads(first.split("\r\n\r\n", 2)[2])["id"] == "direct01"
    # a part's own Authorization wins over the batch's
    assert "Content-ID: <response-item2>" in second and "HTTP/1.1 401 Unauthorized" in second


# ---- retries and faults ---------------------------------------------------------

@pytest.mark.parametrize("status, why", [(403, "rateLimitExceeded"),
                                         (403, "userRateLimitExceeded"),
                                         (429, None), (500, None), (503, None)])
def test_googleapiclient_retries_rate_limits_and_5xx(fake, service, sleeps, status, why):
    fake.fail_next(status, reason=why)
    fake.fail_next(503)
    request = service.events().insert(calendarId=CAL, body=tagged("abcde"))
    assert request.execute(num_retries=2)["id"] == "abcde"
    assert [s.status for s in fake.writes()] == [status, 503, 200]
    assert len(sleeps) == 2 and all(0 <= s <= 4 for s in sleeps)


@pytest.mark.parametrize("status, why", [(403, "quotaExceeded"),
                                         (403, "forbiddenForServiceAccounts"),
                                         (409, None), (410, None)])
def test_googleapiclient_does_not_retry_other_errors(fake, service, sleeps, status, why):
    fake.fail_next(status, reason=why)
    with pytest.raises(HttpError) as raised:
        service.events().insert(calendarId=CAL, body=tagged("abcde")).execute(num_retries=2)
    assert raised.value.status_code == status and sleeps == []
    assert len(fake.writes()) == 1 and fake.events[CAL] == {}


def test_quota_exceeded_body(fake, service):
    fake.fail_next(403, reason="quotaExceeded", retry_after=30)
    token = requests.post(fake.url + "/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion":
            credentials(fake.service_account_info())._make_authorization_grant_assertion(),
    }).json()["access_token"]
    answer = requests.get(fake.url + EVENTS_PATH, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403 and answer.headers["Retry-After"] == "30"
    assert answer.json() == {"error": {
        "code": 403, "message": "Calendar usage limits exceeded.",
        "errors": [{"domain": "usageLimits", "reason": "quotaExceeded",
                    "message": "Calendar usage limits exceeded."}]}}


def test_faults_without_a_path_leave_the_token_endpoint_alone(fake, service, sleeps):
    fake.fail_next(500)
    with pytest.raises(HttpError):
        service.events().list(calendarId=CAL).execute()
    assert [(s.path, s.status) for s in fake.requests] == [("/token", 200), (EVENTS_PATH, 500)]
    fake.expire_tokens()
    fake.fail_next(400, path_contains="/token")
    with pytest.raises(RefreshError, match="invalid_grant"):
        service.events().list(calendarId=CAL).execute()


def test_httplib2_resends_once_after_a_dropped_connection(fake, service):
    service.events().list(calendarId=CAL).execute()
    fake.drop_next(method="POST")
    assert service.events().insert(calendarId=CAL, body=tagged("abcde")).execute()["id"] == "abcde"
    assert [s.status for s in fake.writes()] == [0, 200]  # an unasked-for second POST
    fake.drop_next(2, method="POST")
    with pytest.raises(ConnectionError):
        service.events().insert(calendarId=CAL, body=tagged("abcdf")).execute()
    assert "abcdf" not in fake.events[CAL]


def test_a_lost_answer_to_an_insert_resurfaces_as_409(fake, service):
    service.events().list(calendarId=CAL).execute()
    fake.fail_after_write(method="POST")
    with pytest.raises(HttpError) as raised:  # applied, answer lost, re-sent by httplib2
        service.events().insert(calendarId=CAL, body=tagged("abcde")).execute()
    assert raised.value.status_code == 409
    assert [s.status for s in fake.writes()] == [0, 409] and "abcde" in fake.events[CAL]


def test_forbid_writes_records_violations(fake, service):
    fake.add_event(CAL, tagged("abcde"))
    fake.forbid_writes()
    with pytest.raises(HttpError) as raised:
        service.events().delete(calendarId=CAL, eventId="abcde").execute()
    assert raised.value.status_code == 500
    batch = new_batch(fake, results := [])
    batch.add(service.events().patch(calendarId=CAL, eventId="abcde", body={"summary": "x"}))
    batch.add(service.events().get(calendarId=CAL, eventId="abcde"))
    batch.execute(http=service._http)
    assert [exc and exc.status_code for _, _, exc in results] == [500, None]  # reads still work
    assert [v.split(" ")[0] for v in fake.violations] == ["DELETE", "PATCH"]
    assert f"PATCH {EVENTS_PATH}/abcde" in fake.violations[1]
    assert fake.events[CAL]["abcde"]["status"] == "confirmed"


# ---- log and lifecycle ------------------------------------------------------------

def test_log_separates_http_requests_parts_and_writes(fake, service):
    batch = new_batch(fake, [])
    batch.add(service.events().insert(calendarId=CAL, body=tagged("abcde")), request_id="one")
    batch.add(service.events().list(calendarId=CAL), request_id="two")
    batch.execute(http=service._http)
    assert [(s.method, s.path, s.batch) for s in fake.requests] == [
        ("POST", "/token", None), ("POST", "/batch/calendar/v3", None),
        ("POST", EVENTS_PATH, "batch-1"), ("GET", EVENTS_PATH, "batch-1")]
    assert [s.path for s in fake.http_requests()] == ["/token", "/batch/calendar/v3"]
    assert fake.writes() == [Seen("POST", EVENTS_PATH, {"alt": ["json"]}, tagged("abcde"), 200,
                                  "batch-1")]
    fake.clear_log()
    assert fake.requests == [] and fake.writes() == [] and fake.http_requests() == []


def test_stop_hangs_up_keep_alive_connections_and_joins_threads():
    fake = FakeGoogle().start()
    with pytest.raises(RuntimeError):
        fake.start()
    assert fake.url == f"http://127.0.0.1:{fake.port}" and fake.port > 0
    with make_service(fake, credentials(fake.service_account_info())) as svc:
        svc.events().list(calendarId=CAL).execute()  # the connection stays pooled
        fake.stop()
        assert not [t for t in threading.enumerate() if "process_request" in t.name]
    fake.stop()  # a second stop is harmless


def test_service_account_info_needs_a_started_fake():
    with pytest.raises(RuntimeError, match="start FakeGoogle first"):
        FakeGoogle().service_account_info()


# ---- Workspace users: delegation, primary calendars, out of office ------------

READONLY = "https://www.googleapis.com/auth/calendar.events.readonly"


def as_user(fake, email):
    return make_service(fake, credentials(fake.service_account_info(), email, scopes=(READONLY,)))


def test_the_token_endpoint_honours_the_subject_delegation_and_domain(fake):
    fake.add_user("ada@agency.gov")
    fake.add_user("bob@agency.gov", delegated=False)
    fake.add_user("cy@gmail.com", in_domain=False)
    with as_user(fake, "ada@agency.gov") as svc:
        assert svc.events().list(calendarId="ada@agency.gov").execute()["items"] == []
    with as_user(fake, "bob@agency.gov") as svc, pytest.raises(RefreshError) as refused:
        svc.events().list(calendarId="bob@agency.gov").execute()
    assert "unauthorized_client" in str(refused.value)
    with as_user(fake, "cy@gmail.com") as svc, pytest.raises(RefreshError) as refused:
        svc.events().list(calendarId="cy@gmail.com").execute()
    assert "invalid_grant" in str(refused.value) and "Invalid email or User ID" in str(refused.value)
    assert [t["sub"] for t in fake.tokens_issued] == ["ada@agency.gov"]


def test_a_primary_calendar_is_read_only_as_its_user_and_primary_means_the_subject(fake, service):
    fake.add_user("ada@agency.gov")
    fake.add_user("bob@agency.gov")
    fake.out_of_office("ada@agency.gov", date(2027, 3, 8), date(2027, 3, 9), event_id="adaooo1")
    with as_user(fake, "bob@agency.gov") as svc, pytest.raises(HttpError) as e:
        svc.events().list(calendarId="ada@agency.gov").execute()
    assert e.value.status_code == 404 and reason(e.value) == "notFound"
    with pytest.raises(HttpError) as e:  # the service account itself: not shared with it
        service.events().list(calendarId="ada@agency.gov").execute()
    assert e.value.status_code == 404
    with as_user(fake, "ada@agency.gov") as svc:
        assert [i["id"] for i in svc.events().list(calendarId="primary").execute()["items"]] == ["adaooo1"]
        with pytest.raises(HttpError) as e:  # read-only scope: no writes
            svc.events().delete(calendarId="ada@agency.gov", eventId="adaooo1").execute()
    assert e.value.status_code == 403 and reason(e.value) == "insufficientPermissions"


def test_event_types_filter_and_out_of_office_properties(fake):
    fake.add_user("ada@agency.gov")
    fake.out_of_office("ada@agency.gov", date(2027, 3, 8), date(2027, 3, 9), event_id="ooo01")
    fake.add_event("ada@agency.gov", event("meeting1", "2027-03-08T09:00:00-05:00", "2027-03-08T10:00:00-05:00"))
    with as_user(fake, "ada@agency.gov") as svc:
        everything = svc.events().list(calendarId="ada@agency.gov").execute()["items"]
        away = svc.events().list(calendarId="ada@agency.gov", eventTypes=["outOfOffice"]).execute()["items"]
        both = svc.events().list(calendarId="ada@agency.gov", eventTypes=["outOfOffice", "default"]).execute()
    assert sorted(i["id"] for i in everything) == ["meeting1", "ooo01"]
    assert [(i["id"], i["eventType"]) for i in away] == [("ooo01", "outOfOffice")]
    assert away[0]["outOfOfficeProperties"]["autoDeclineMode"] == "declineOnlyNewConflictingInvitations"
    assert len(both["items"]) == 2
    query = fake.http_requests()[-1].query
    assert query["eventTypes"] == ["outOfOffice", "default"]  # repeated, as the discovery document says


def test_single_events_expands_a_recurring_event_and_honours_cancelled_instances(fake):
    fake.add_user("ada@agency.gov", "America/New_York")
    start = datetime(2027, 3, 5, 13, 0, tzinfo=ZoneInfo("America/New_York"))  # Fridays 13:00-17:00, over DST
    fake.out_of_office("ada@agency.gov", start, start + timedelta(hours=4), event_id="fridas",
                       recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"])
    with as_user(fake, "ada@agency.gov") as svc:
        master = svc.events().list(calendarId="ada@agency.gov").execute()["items"]
        fake.cancel_instance("ada@agency.gov", "fridas", "fridas_20270312T180000Z")
        single = svc.events().list(calendarId="ada@agency.gov", singleEvents=True,
                                   timeMin="2027-03-01T00:00:00Z", timeMax="2027-04-01T00:00:00Z").execute()["items"]
        deleted = svc.events().list(calendarId="ada@agency.gov", singleEvents=True, showDeleted=True).execute()
    assert [i["id"] for i in master] == ["fridas"] and master[0]["recurrence"]
    # 13:00 New York is 18:00Z before the change on 14 March and 17:00Z after it.
    assert [i["id"] for i in single] == ["fridas_20270305T180000Z", "fridas_20270319T170000Z"]
    assert {i["recurringEventId"] for i in single} == {"fridas"}
    assert [i["start"]["dateTime"] for i in single] == ["2027-03-05T13:00:00-05:00", "2027-03-19T13:00:00-04:00"]
    statuses = {i["id"]: i["status"] for i in deleted["items"]}
    assert statuses["fridas_20270312T180000Z"] == "cancelled"


def test_an_all_day_recurring_event_has_date_instances(fake):
    fake.add_user("ada@agency.gov")
    fake.out_of_office("ada@agency.gov", date(2027, 3, 1), date(2027, 3, 2), event_id="mondas",
                       recurrence=["RRULE:FREQ=WEEKLY;UNTIL=20270315"])
    with as_user(fake, "ada@agency.gov") as svc:
        items = svc.events().list(calendarId="ada@agency.gov", singleEvents=True).execute()["items"]
    assert [(i["id"], i["start"], i["end"]) for i in items] == [
        (f"mondas_2027030{d}" if d < 10 else f"mondas_202703{d}", {"date": f"2027-03-{d:02d}"},
         {"date": f"2027-03-{d + 1:02d}"}) for d in (1, 8, 15)]


def test_an_owner_moving_or_deleting_an_event(fake):
    fake.add_user("ada@agency.gov")
    fake.out_of_office("ada@agency.gov", date(2027, 3, 8), date(2027, 3, 9), event_id="ooo01")
    fake.move_event("ada@agency.gov", "ooo01", date(2027, 3, 15), date(2027, 3, 17))
    with as_user(fake, "ada@agency.gov") as svc:
        moved = svc.events().get(calendarId="ada@agency.gov", eventId="ooo01").execute()
        fake.delete_event("ada@agency.gov", "ooo01")
        listed = svc.events().list(calendarId="ada@agency.gov").execute()["items"]
    assert (moved["start"], moved["end"], moved["sequence"]) == ({"date": "2027-03-15"}, {"date": "2027-03-17"}, 1)
    assert listed == []
