"""The fake Slack webhook behaves like the documented one, as slack_sdk sees it.

Driven through slack_sdk's WebhookClient, built with ``retry_handlers=[]`` so
that it never retries or sleeps, and through raw ``requests`` where
WebhookClient cannot send the request (a body that is not JSON).  The tests of
slack_sdk's default retry handlers replace their ``time`` module, so they
record the sleeps they would take instead of taking them.
"""

import os
import threading
import types
from http.client import RemoteDisconnected
from urllib.error import URLError

import pytest
import requests
from slack_sdk.http_retry import all_builtin_retry_handlers, builtin_handlers, handler
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.webhook import WebhookClient

from fakes.slack import FakeSlack, Seen

PATH = "/services/T0001/B0001/abcdefghijklmnopqrstuvwx"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """WebhookClient and urllib both route through any *_proxy variable."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


@pytest.fixture
def fake():
    with FakeSlack() as server:
        yield server


@pytest.fixture
def client(fake):
    return WebhookClient(url=fake.url, retry_handlers=[])


@pytest.fixture
def sleeps(monkeypatch):
    """The durations slack_sdk's retry handlers ask to sleep, none of them slept."""
    asked = []
    clock = types.SimpleNamespace(sleep=asked.append)
    monkeypatch.setattr(handler, "time", clock)
    monkeypatch.setattr(builtin_handlers, "time", clock)
    return asked


# ---- accepted messages ---------------------------------------------------------

def test_text_message_is_accepted(fake, client):
    assert fake.url == f"http://127.0.0.1:{fake.port}{PATH}"
    response = client.send(text="Ada is on support this week")
    assert (response.status_code, response.body) == (200, "ok")
    assert response.headers["content-type"] == "text/html"  # an HTTPMessage: any case
    assert fake.messages == [{"text": "Ada is on support this week"}]
    assert fake.requests == [Seen("POST", PATH, {"text": "Ada is on support this week"}, 200)]


def test_blocks_message_is_accepted_with_its_options(fake, client):
    response = client.send(text="fallback", unfurl_links=False,
                           blocks=[SectionBlock(text="*Ada* is on support")])
    assert (response.status_code, response.body) == (200, "ok")
    assert fake.messages == [{
        "text": "fallback", "unfurl_links": False,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Ada* is on support"}}],
    }]
    only_blocks = [{"type": "divider"}]
    assert client.send(blocks=only_blocks).status_code == 200
    assert client.send(attachments=[{"fallback": "f", "text": "t"}]).status_code == 200
    assert [m.get("blocks") for m in fake.messages][1:] == [only_blocks, None]


# ---- rejected payloads and URLs -------------------------------------------------

def test_body_that_is_not_a_json_object_is_invalid_payload(fake, client):
    raw = requests.post(fake.url, data="{not json", headers={"Content-Type": "application/json"})
    assert (raw.status_code, raw.text) == (400, "invalid_payload")
    assert raw.headers["Content-Type"] == "text/html"  # plain text, not JSON
    empty = client.send_dict({})  # slack_sdk sends the JSON "null" for an empty dict
    assert (empty.status_code, empty.body) == (400, "invalid_payload")
    assert fake.messages == []
    assert [(s.body, s.status) for s in fake.requests] == [("{not json", 400), (None, 400)]


@pytest.mark.parametrize("payload", [{}, {"unfurl_links": True}, {"text": ""}, {"blocks": []}])
def test_payload_without_text_or_blocks_is_no_text(fake, client, payload):
    response = client.send(**payload)  # send() with nothing posts "{}"
    assert (response.status_code, response.body) == (400, "no_text")
    assert fake.messages == [] and fake.requests[-1].status == 400


@pytest.mark.parametrize("path, status, body", [
    ("/services/T0001/B0001/wrongwrongwrongwrongwron", 403, "invalid_token"),
    ("/services/T0001/B0002/abcdefghijklmnopqrstuvwx", 404, "no_service"),
    ("/services/T0001/B0001", 404, "no_service"),
    ("/api/chat.postMessage", 404, "no_service"),
])
def test_unknown_webhook_url(fake, path, status, body):
    """Docs: invalid_token "the token used was expired, invalid, or missing";
    no_service "the incoming webhook is either disabled, removed, or invalid"."""
    stranger = WebhookClient(url=f"http://127.0.0.1:{fake.port}{path}", retry_handlers=[])
    response = stranger.send(text="hello")
    assert (response.status_code, response.body) == (status, body)
    assert fake.messages == [] and fake.requests == [Seen("POST", path, {"text": "hello"}, status)]


def test_disabled_webhook_is_no_service(fake, client):
    assert client.send(text="before").status_code == 200
    fake.disable()
    response = client.send(text="after")
    assert (response.status_code, response.body) == (404, "no_service")
    assert fake.messages == [{"text": "before"}]


def test_custom_path():
    with pytest.raises(ValueError):
        FakeSlack(path="/hooks/abc")
    with FakeSlack(path="/services/T9/B9/secret") as fake:
        assert fake.url.endswith("/services/T9/B9/secret")
        assert WebhookClient(url=fake.url, retry_handlers=[]).send(text="x").body == "ok"


# ---- injected answers -------------------------------------------------------------

def test_rate_limited_carries_retry_after(fake, client):
    fake.fail_next(429, retry_after=3)
    limited = client.send(text="hi")
    assert (limited.status_code, limited.body) == (429, "rate_limited")
    # An error answer's headers are a plain dict; for a 429 slack_sdk fills in both spellings.
    assert limited.headers["Retry-After"] == limited.headers["retry-after"] == "3"
    assert fake.messages == []
    assert client.send(text="hi").status_code == 200  # the rule is used up
    assert [s.status for s in fake.requests] == [429, 200]
    fake.fail_next(429)  # Slack sends Retry-After with every 429
    assert client.send(text="hi").headers["Retry-After"] == "1"


@pytest.mark.parametrize("status, body", [(400, "invalid_payload"), (403, "invalid_token"),
                                          (404, "no_service"), (410, "channel_is_archived"),
                                          (500, "rollup_error")])
def test_fail_next_answers_the_documented_body(fake, client, status, body):
    fake.fail_next(status, count=2)
    answers = [client.send(text="hi") for _ in range(3)]
    assert [(a.status_code, a.body) for a in answers] == [(status, body)] * 2 + [(200, "ok")]
    assert "Retry-After" not in answers[0].headers
    assert fake.messages == [{"text": "hi"}]


def test_fail_next_with_a_given_body(fake, client):
    fake.fail_next(404, body="channel_not_found")
    assert client.send(text="hi").body == "channel_not_found"
    with pytest.raises(ValueError):
        fake.fail_next(503)  # Slack documents no body for it
    with pytest.raises(ValueError):
        fake.drop_next(0)


def test_drop_next_raises_remote_disconnected(fake, client):
    fake.drop_next()
    with pytest.raises(RemoteDisconnected) as raised:
        client.send(text="hi")
    # http.client's own error, not wrapped in urllib's URLError; a ConnectionError.
    assert not isinstance(raised.value, URLError) and isinstance(raised.value, ConnectionError)
    assert fake.messages == []
    assert fake.requests == [Seen("POST", PATH, {"text": "hi"}, 0)]
    assert client.send(text="hi").status_code == 200


def test_fail_after_accept_keeps_the_message_but_loses_the_answer(fake, client):
    fake.fail_after_accept()
    assert client.send_dict({}).status_code == 400  # a rejected post does not use it up
    with pytest.raises(RemoteDisconnected):
        client.send(text="posted once")
    assert fake.messages == [{"text": "posted once"}]
    assert [s.status for s in fake.requests] == [400, 0]


def test_faults_apply_in_injection_order(fake, client):
    fake.fail_next(500)
    fake.drop_next()
    assert client.send(text="a").status_code == 500
    with pytest.raises(RemoteDisconnected):
        client.send(text="b")
    assert client.send(text="c").status_code == 200
    assert fake.messages == [{"text": "c"}]


# ---- slack_sdk's retry handlers ---------------------------------------------------

def test_default_client_retries_a_lost_answer_once_and_posts_twice(fake, sleeps):
    default = WebhookClient(url=fake.url)  # retry_handlers=None: [ConnectionErrorRetryHandler()]
    fake.fail_after_accept()
    assert default.send(text="rota").status_code == 200
    assert fake.messages == [{"text": "rota"}, {"text": "rota"}]  # a duplicate post
    assert len(sleeps) == 1 and 0.5 <= sleeps[0] < 1.5  # 0.5 s backoff + random() jitter
    fake.drop_next(2)
    with pytest.raises(RemoteDisconnected):
        default.send(text="rota")
    assert len(sleeps) == 2 and [s.status for s in fake.requests][-2:] == [0, 0]


def test_default_client_does_not_retry_429_or_500(fake, sleeps):
    default = WebhookClient(url=fake.url)
    fake.fail_next(429, retry_after=30)
    fake.fail_next(500)
    assert default.send(text="x").status_code == 429
    assert default.send(text="x").status_code == 500
    assert sleeps == [] and len(fake.requests) == 2


def test_builtin_rate_limit_handler_sleeps_retry_after(fake, sleeps):
    opted_in = WebhookClient(url=fake.url, retry_handlers=all_builtin_retry_handlers())
    fake.fail_next(429, retry_after=3)
    assert opted_in.send(text="x").status_code == 200
    assert len(sleeps) == 1 and 3 <= sleeps[0] < 4  # Retry-After + random() jitter


# ---- lifecycle ---------------------------------------------------------------------

def test_stop_leaves_nothing_behind_and_refuses_connections():
    fake = FakeSlack().start()
    client = WebhookClient(url=fake.url, retry_handlers=[])
    assert client.send(text="x").status_code == 200
    fake.stop()
    assert not [t for t in threading.enumerate() if "process_request" in t.name]
    with pytest.raises(URLError) as raised:  # refused while sending: urllib wraps it
        client.send(text="x")
    assert isinstance(raised.value.reason, ConnectionRefusedError)
    fake.stop()  # a second stop is harmless
