"""The server's access log without personal data.

Query strings carry what people search for (`/desk/?q=13812345678`,
`/api/v1/lookup?q=…`, `/track/…`) and reach the log through the request
line, the referer and redirects. The access log keeps method, path, status,
size and timing and writes every query string as `?-`: a log line never holds
a phone number or a name, whatever the path (a list of "paths that carry
personal data" would miss the next one).
"""
from __future__ import annotations

import json

from gunicorn.glogging import Logger

OMITTED = "?-"
# one JSON object per request (`credtrack serve`), with the request id the
# app answers in X-Request-ID (web/ops.py): the line a support desk finds
# from the id a user or the proxy reports
JSON_FORMAT = ('{"time": "%(t)s", "request_id": "%({x-request-id}o)s", "remote": "%(h)s", "request": "%(r)s", '
               '"status": "%(s)s", "bytes": "%(B)s", "ms": "%(M)s", "user_agent": "%(a)s"}')
# atoms (gunicorn's names) whose value may be a URL with a query string
_URL_ATOMS = ("f", "{referer}i", "{location}o", "{http_referer}e", "{raw_uri}e", "{request_uri}e")
_QUERY_ATOMS = ("q", "{query_string}e")


def without_query(url: str | None) -> str | None:
    """`/desk/?q=138…` → `/desk/?-`; a URL without a query is unchanged."""
    if not url or "?" not in url:
        return url
    return url.split("?", 1)[0] + OMITTED


class PrivateAccessLogger(Logger):
    """gunicorn's logger with every query string left out of the access log."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["r"] = "%s %s %s" % (environ.get("REQUEST_METHOD"), without_query(environ.get("RAW_URI", "")),
                                   environ.get("SERVER_PROTOCOL"))
        for key in _QUERY_ATOMS:
            if atoms.get(key):
                atoms[key] = "-"
        for key in _URL_ATOMS:
            if key in atoms:
                atoms[key] = without_query(atoms[key])
        if self.cfg.access_log_format.startswith("{"):
            # JSON lines: every value escaped as in a JSON string (the quotes
            # are left to gunicorn's SafeAtoms, which escapes them itself)
            atoms = {k: json.dumps(v)[1:-1].replace('\\"', '"') if isinstance(v, str) else v
                     for k, v in atoms.items()}
        return atoms
