"""Google's batch wire format, both ways (stdlib ``email`` and ``http.client``).

Documented at developers.google.com/workspace/calendar/api/guides/batch: the
batch request is ``multipart/mixed``; each part is ``Content-Type:
application/http`` holding one whole HTTP request (request line, headers,
body) and usually a ``Content-ID``.  The answer is ``multipart/mixed`` too,
one ``application/http`` part per request in the same order, each holding a
whole HTTP response and ``Content-ID: <response-ID>`` for a request part
``Content-ID: <ID>``.

googleapiclient writes its parts with bare LF line endings and reads answers
with ``payload.split("\\r\\n\\r\\n", 1)``, so the parser accepts either ending
and the renderer always writes CRLF, as Google does.
"""

from __future__ import annotations

import http.client
import io
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from http import HTTPStatus


@dataclass
class Part:
    """One request inside a batch."""

    content_id: str | None
    method: str
    target: str  # as written in the request line: usually path and query
    headers: http.client.HTTPMessage  # case-insensitive, like the outer request's
    body: bytes


def parse(content_type: str, raw: bytes) -> list[Part]:
    """Split a batch body into its requests; ValueError when it is not one."""
    message = BytesParser(policy=policy.compat32).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
    if message.get_content_type() != "multipart/mixed" or not message.is_multipart():
        raise ValueError("a batch request must be multipart/mixed")
    parts = []
    for sub in message.get_payload():
        if sub.get_content_type() != "application/http":
            raise ValueError("each batch part must be application/http")
        # The "binary" transfer encoding passes through get_payload(decode=True).
        fp = io.BytesIO(sub.get_payload(decode=True) or b"")
        request_line = fp.readline().decode("latin-1").strip().split(" ")
        if len(request_line) != 3:
            raise ValueError(f"bad request line in batch part: {' '.join(request_line)!r}")
        headers = http.client.parse_headers(fp)
        body = fp.read()
        if headers.get("Content-Length", "").isdigit():
            body = body[:int(headers["Content-Length"])]
        parts.append(Part(sub.get("Content-ID"), request_line[0], request_line[1], headers, body))
    return parts


def response_id(content_id: str) -> str:
    """``<ID>`` answers as ``<response-ID>``; googleapiclient then drops the
    ``response-``-prefixed base before " + " to find its own request id."""
    inner = content_id.strip()
    if inner.startswith("<") and inner.endswith(">"):
        return f"<response-{inner[1:-1]}>"
    return f"response-{inner}"


def render(answers: list[tuple[str | None, int, dict[str, str], bytes | None]],
           boundary: str) -> tuple[str, bytes]:
    """The multipart/mixed answer: (Content-Type header value, body).

    Each answer is (request Content-ID or None, status, headers, body or None);
    a part without a Content-ID gets none back.
    """
    out = io.BytesIO()
    for content_id, status, headers, data in answers:
        out.write(f"--{boundary}\r\nContent-Type: application/http\r\n".encode())
        if content_id:
            out.write(f"Content-ID: {response_id(content_id)}\r\n".encode())
        out.write(f"\r\nHTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n".encode())
        for name, value in {**headers, "Content-Length": str(len(data or b""))}.items():
            out.write(f"{name}: {value}\r\n".encode())
        out.write(b"\r\n" + (data or b"") + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return f"multipart/mixed; boundary={boundary}", out.getvalue()
