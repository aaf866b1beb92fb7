"""Security helpers of the web edge (pure functions, no I/O): the trainer token compared as bytes, the
trainers' signed and expiring session cookie (itsdangerous), the same-origin check of state-changing
requests, and spreadsheet-safe CSV cells."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import Headers
from starlette.types import Scope

SESSION_COOKIE = "repere_formateur"
SESSION_PATH = "/formateurs"


def same_token(given: str, expected: str) -> bool:
    """Constant-time comparison on UTF-8 bytes (hmac.compare_digest refuses non-ASCII str: a 500 before)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


def _serializer(token: str) -> URLSafeTimedSerializer:
    """Sessions are signed with a key derived from the trainer token: every worker and instance shares it
    without another secret, and changing the token ends every session."""
    key = hmac.new(token.encode("utf-8"), b"repere-session-formateurs", hashlib.sha256).hexdigest()
    return URLSafeTimedSerializer(key, salt="formateurs")


def new_session(token: str) -> str:
    """A signed session value (it holds no secret: only a role and the time it was signed)."""
    return _serializer(token).dumps({"role": "formateur"})


def valid_session(value: str, token: str, max_age_seconds: int) -> bool:
    try:
        data = _serializer(token).loads(value, max_age=max_age_seconds)
    except (BadSignature, UnicodeError):  # SignatureExpired is a BadSignature
        return False
    return isinstance(data, dict) and data.get("role") == "formateur"


def secure_cookie(scheme: str, host: str) -> bool:
    """`Secure` on every cookie, except over plain HTTP to this machine itself (`make run` on 127.0.0.1),
    where browsers would otherwise drop it."""
    return scheme == "https" or not _loopback(host)


def _loopback(host: str) -> bool:
    name = urlsplit(f"//{host}").hostname or ""
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def cross_origin(scope: Scope) -> bool:
    """A state-changing request sent by a page of another origin (same site or not): refused.

    Browsers send `Origin` with every POST (and `Sec-Fetch-Site`); a request with neither (curl, an API
    client, an old browser without `Referer` either) comes from no page, so no cookie of ours was ridden.
    The origin is compared with the `Host` the request was sent to (a reverse proxy must pass it on)."""
    if scope["method"] in SAFE_METHODS:
        return False
    headers = Headers(scope=scope)
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = headers.get("origin") or headers.get("referer")
    if origin is None:
        return False
    sent_from = urlsplit(origin).netloc.lower()
    return not sent_from or sent_from != headers.get("host", "").lower()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A cell a spreadsheet will not run as a formula (OWASP: prefix a quote to =, +, -, @, tab, CR)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
