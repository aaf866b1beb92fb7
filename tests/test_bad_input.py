"""Bad input against the real server over HTTP (`repere serve` in a subprocess).

Fuzzed questions (very long, control characters, lone surrogates, HTML/JS and template payloads, mixed
scripts, empty) at every entry point that takes one: the JSON API, the no-JavaScript form, the SSE
stream and /v1/chat/completions. Each answers 200 or a 4xx with a French message, never 5xx; the
server stays up; every HTML page or fragment returned is parsed (html.parser): no script element but
the app's own files, no on* attribute, no javascript: URL, no element the app never writes, and the
question reads back as text, verbatim. Then arbitrary text (hypothesis) across the JSON API, and the
regressions of what schemathesis found (tests/test_schemathesis.py)."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.intake import MAX_QUESTION_CHARS, AskError, clean_question

JSON_HEADERS = {"content-type": "application/json"}
FORM_HEADERS = {"content-type": "application/x-www-form-urlencoded"}
FRENCH = re.compile(
    r"\b(la|le|les|est|sont|question|requête|trop|vide|caractère|invalide|manquante?|aucune|méthode)\b", re.I
)
PAYLOADS = {
    # very long, around and far beyond the 2,000-character limit
    "juste sous la limite": ("aide éducative à domicile " * 80)[: MAX_QUESTION_CHARS - 1],
    "à la limite": "a" * MAX_QUESTION_CHARS,
    "à la limite + 1": "a" * (MAX_QUESTION_CHARS + 1),
    "très longue": "protection de l'enfance " * 4000,
    # control characters, bidi overrides, lone surrogates
    "nul": "qui contacter\x00 pour une information préoccupante ?",
    "seulement nul": "\x00",
    "échappement ANSI": "\x1b[31mrouge\x1b[0m accueil de jour ?",
    "contrôles C0 et C1": "\x07\x08\x0b\x0c\x7f\x85\x9b accueil parents",
    "inversion droite-gauche": "\u202elangis\u202c une information préoccupante ?",
    "BOM seul": "\ufeff",
    "surrogate isolé": "aide \ud800 à domicile",
    "surrogate bas isolé": "\udfff",
    # markup and template payloads
    "script": "<script>alert(1)</script>",
    "img onerror": '"><img src=x onerror=alert(1)>',
    "fermer le textarea": "</textarea><script>alert(1)</script>",
    "lien javascript": '<a href="javascript:alert(1)">cliquez</a> javascript:alert(1)',
    "svg onload": "<svg/onload=alert(1)> groupe de parents",
    "attribut": "' onmouseover='alert(1)' x='",
    "jinja expression": "{{7*7}} {{ config }}",
    "jinja bloc": "{% for x in range(3) %}boucle{% endfor %} {# commentaire #}",
    "autres gabarits": "${7*7} #{7*7} <%= 7*7 %>",
    "marqueur de citation": "[1] [999] <a href=/sources/x>[2]</a>",
    "entités": "&lt;script&gt;alert(1)&lt;/script&gt; &amp;",
    # mixed scripts
    "arabe": "ما هي المساعدة التربوية في المنزل؟",
    "cyrillique": "защита детей, аide à domicile ?",
    "chinois": "儿童保护 information préoccupante",
    "emoji": "👶🏽🍼 une nounou à Firminy ? 👨‍👩‍👧",
    "marques combinantes": "e\u0301ducatrice Z\u0335\u0321\u030ca\u0336l\u0334g\u0337o",
    "hébreu": "שלום, accueil de jour ?",
    # empty and blank
    "vide": "",
    "espaces": "   ",
    "blancs variés": "\n\t\r \u00a0\u2003",
    "espace de largeur nulle": "\u200b",
}
NAMES = list(PAYLOADS)
FEEDBACK = {"useful": True, "question": "q", "audience": "famille", "answer": "a"}


def as_json(payload: object) -> bytes:
    """JSON with \\u escapes, so that lone surrogates reach the server as JSON allows them."""
    return json.dumps(payload, ensure_ascii=True).encode("ascii")


def as_form(fields: list[tuple[str, str]]) -> str:
    """URL-encoded UTF-8, lone surrogates kept as the (invalid) bytes a broken client would send."""
    return "&".join(f"{k}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in fields)


def expected_echo(question: str) -> str | None:
    """The question as the engine reads it (and the page shows it), or None if it is refused."""
    try:
        return clean_question(question)
    except AskError:
        return None


class Page(HTMLParser):
    """Tags with their attributes, text, and the text inside <script> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.script_text if self._in_script else self.text).append(data)


def assert_inert(html: str) -> Page:
    """No markup from a payload in the document."""
    page = Page()
    page.feed(html)
    page.close()
    assert "".join(page.script_text).strip() == "", "inline script in the page"
    for tag, attrs in page.tags:
        assert tag not in {"img", "svg", "iframe", "object", "embed", "math"}, f"<{tag}> in the page"
        if tag == "script":
            assert (dict(attrs).get("src") or "").startswith("/static/"), attrs
        for name, value in attrs:
            assert not name.startswith("on"), f"event handler {name}= on <{tag}>"
            assert not (value or "").strip().lower().startswith("javascript:"), f"{name}={value!r} on <{tag}>"
            if name == "href" and tag == "a":
                assert (value or "").startswith(("/", "#", "tel:", "mailto:", "https://")), value
    return page


def assert_french_error(response: httpx.Response) -> str:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if response.headers["content-type"].startswith("application/json"):
        detail = response.json()["detail"]
    else:
        detail = " ".join(" ".join(assert_inert(response.text).text).split())
    assert isinstance(detail, str) and FRENCH.search(detail), detail
    return detail


def parse_sse(text: str) -> list[tuple[str, str]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields = [line.split(":", 1) for line in block.split("\n") if ":" in line]
        if fields:
            event = next((v.strip() for k, v in fields if k == "event"), "message")
            data = "\n".join(v[1:] if v.startswith(" ") else v for k, v in fields if k == "data")
            events.append((event, data))
    return events


@pytest.fixture(scope="module")
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60) as client:
        yield client


@pytest.mark.parametrize("name", NAMES)
def test_json_api(client: httpx.Client, name: str) -> None:
    question = PAYLOADS[name]
    response = client.post("/api/ask", content=as_json({"question": question}), headers=JSON_HEADERS)
    echo = expected_echo(question)
    if echo is not None:
        assert response.status_code == 200, response.text[:300]
        body = response.json()
        assert body["question"] == echo and body["answer"]
    else:
        assert_french_error(response)
    history = [{"role": "user", "content": question}, {"role": "assistant", "content": question}]
    follow = client.post(
        "/api/ask", content=as_json({"question": "et à Firminy ?", "history": history}), headers=JSON_HEADERS
    )
    assert follow.status_code == 200 or assert_french_error(follow)


@pytest.mark.parametrize("name", NAMES)
def test_form_post(client: httpx.Client, name: str) -> None:
    """The no-JavaScript path: the question, and the same text as an earlier question (hidden field)."""
    question = PAYLOADS[name]
    form = [("question", question), ("audience", "famille"), ("previous", question), ("previous", "accueil")]
    response = client.post("/chat", content=as_form(form), headers=FORM_HEADERS)
    assert response.headers["content-type"].startswith("text/html"), response.text[:300]
    page = assert_inert(response.text)
    text = "".join(page.text)
    # a broken client's surrogate bytes are decoded as U+FFFD, so such a question is asked, not refused
    echo = expected_echo(question.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
    if echo is None:
        assert response.status_code == 400
        assert_french_error(response)
    else:
        assert response.status_code == 200, text[-300:]
        assert f"Votre question : {echo}" in text  # read back verbatim, as text


@pytest.mark.parametrize("name", NAMES)
def test_sse_stream(client: httpx.Client, name: str) -> None:
    question = PAYLOADS[name]
    query = as_form([("question", question), ("previous", question)])
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = client.post("/api/ask/stream", content=query, headers=headers)
    assert response.status_code == 200, response.text[:300]
    events = parse_sse(response.text)
    last_event, last_data = events[-1]
    if last_event == "error":
        assert expected_echo(question) is None
        assert FRENCH.search(json.loads(last_data)["detail"])
        return
    assert last_event == "done", events[-1]
    page = assert_inert(json.loads(last_data)["html"])
    echo = expected_echo(question.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
    assert f"Votre question : {echo}" in "".join(page.text)


@pytest.mark.parametrize("name", NAMES)
def test_openai_route(client: httpx.Client, name: str) -> None:
    question = PAYLOADS[name]
    for stream in (False, True):
        body = {"model": "repere-famille", "messages": [{"role": "user", "content": question}], "stream": stream}
        response = client.post("/v1/chat/completions", content=as_json(body), headers=JSON_HEADERS)
        if expected_echo(question) is None:
            assert_french_error(response)
        elif stream:
            assert parse_sse(response.text)[-1] == ("message", "[DONE]")
        else:
            assert response.json()["choices"][0]["message"]["content"]


def test_request_line_too_long(server: str) -> None:
    """A URL too long for the HTTP server (uvicorn's parser, before the app) is a 400; the server stays up."""
    host = urlsplit(server)
    connection = http.client.HTTPConnection(host.hostname or "", host.port, timeout=60)
    try:
        connection.request("GET", "/api/ask/stream?question=" + "a" * 100_000)
        assert connection.getresponse().status == 400
    finally:
        connection.close()
    assert httpx.get(f"{server}/healthz").json()["status"] == "ok"


def test_server_still_up_after_the_fuzzing(client: httpx.Client) -> None:
    assert client.get("/healthz").json()["status"] == "ok"


@given(question=st.text(st.characters(codec=None, exclude_categories=()), max_size=MAX_QUESTION_CHARS + 50))
@settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_any_text_as_a_question(server: str, question: str) -> None:
    """Arbitrary Unicode text (control characters and lone surrogates included) as the question of the
    JSON API: 200 with the question read back as the engine cleans it, or a French 4xx; never 5xx."""
    audience = "professionnel" if len(question) % 2 else "famille"
    response = httpx.post(
        f"{server}/api/ask",
        content=as_json({"question": question, "audience": audience}),
        headers=JSON_HEADERS,
        timeout=60,
    )
    echo = expected_echo(question)
    if response.status_code == 200:
        assert response.json()["question"] == echo
    else:
        assert echo is None or len(question) > MAX_QUESTION_CHARS, (response.status_code, response.text)
        assert_french_error(response)


# -- what schemathesis found, fixed (tests/test_schemathesis.py runs it again on the whole spec) --------


def test_undeclared_method_gets_405_with_allow(client: httpx.Client) -> None:
    response = client.request("TRACE", "/api/ask")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json()["detail"] == "Méthode non autorisée."


def test_body_that_is_not_utf8_gets_a_french_400(client: httpx.Client) -> None:
    for path in ("/api/ask", "/api/feedback", "/v1/chat/completions"):
        response = client.post(path, content=b'{"question": "\xff\xfe"}', headers=JSON_HEADERS)
        assert response.status_code == 400, path
        assert response.json()["detail"] == "Requête illisible : le corps doit être du JSON en UTF-8."
    broken = client.post("/api/ask", content=b'{"question": ', headers=JSON_HEADERS)
    assert broken.status_code == 422
    assert broken.json()["detail"] == "Requête invalide : le corps de la requête n'est pas un JSON valide."


def test_oversized_body_without_content_length_gets_a_french_413(client: httpx.Client) -> None:
    """A chunked body declares no size: it is counted as it arrives and refused past the limit."""

    def chunks(form: bool) -> Iterator[bytes]:
        yield b"question=" if form else b'{"question": "'
        for _ in range(40):
            yield b"a" * 8192  # 320 KiB in all, over the 256 KiB limit
        yield b"" if form else b'"}'

    for path in ("/api/ask", "/api/feedback", "/v1/chat/completions", "/chat"):
        form = path == "/chat"
        kind = "application/x-www-form-urlencoded" if form else "application/json"
        response = client.post(path, content=chunks(form), headers={"content-type": kind})
        assert response.status_code == 413, (path, response.text[:200])
        assert "content-length" not in response.request.headers
        assert response.json()["detail"] == "Requête trop volumineuse.", path
    small = client.post("/api/ask", content=iter([b'{"question": "un LAEP c\'est quoi ?"}']), headers=JSON_HEADERS)
    assert small.status_code == 200 and "content-length" not in small.request.headers


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/feedback", {"useful": 0, "question": "q", "audience": "famille", "answer": "a"}, "l'avis"),
        ("/api/ask", {"question": 12}, "la question est invalide"),
        ("/api/ask", {"question": "accueil", "history": "non"}, "l'historique est invalide"),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "accueil"}], "stream": 1}, "stream"),
        ("/api/ask", {"question": "aide \ud800"}, "la question contient un caractère invalide"),
        ("/api/ask", {"question": "x" * 2001}, "la question est trop longue (2000 caractères au plus)"),
        ("/api/feedback", {"useful": True, "audience": "famille", "answer": "a"}, "la question est manquante"),
        ("/v1/chat/completions", {}, "les messages sont manquants"),
        ("/api/feedback", {**FEEDBACK, "comment": "c" * 2001}, "le commentaire est trop long (2000"),
    ],
)
def test_schema_violations_are_422_in_french(client: httpx.Client, path: str, body: object, message: str) -> None:
    """Strict bodies (no 0 for false, no 1 for true), lone surrogates refused, messages that agree."""
    response = client.post(path, content=as_json(body), headers=JSON_HEADERS)
    assert response.status_code == 422 and message in response.json()["detail"], response.text


def test_chat_completions_reads_the_last_user_question(client: httpx.Client) -> None:
    """Schema-valid conversations are answered: the question is the last non-blank user message, whatever
    follows it; a conversation with none is a French 400."""
    messages = [
        {"role": "system", "content": "Tu es un assistant."},
        {"role": "user", "content": "horaires de la Clef des Petits ?"},
        {"role": "assistant", "content": None},
        {"role": "user", "content": " \x00 "},
        {"role": "tool", "content": "{}"},
    ]
    response = client.post("/v1/chat/completions", content=as_json({"messages": messages}), headers=JSON_HEADERS)
    assert response.status_code == 200
    content = response.json()["choices"][0]["message"]["content"]
    direct = client.post("/api/ask", json={"question": "horaires de la Clef des Petits ?"}).json()["answer"]
    assert content == direct
    for messages in (
        [{"role": "tool"}],
        [{"role": "assistant", "content": "bonjour"}],
        [{"role": "user", "content": " "}],
    ):
        refused = client.post("/v1/chat/completions", content=as_json({"messages": messages}), headers=JSON_HEADERS)
        assert refused.status_code == 400
        assert refused.json()["detail"] == "La conversation ne contient aucune question de l'utilisateur."


def test_form_with_a_question_over_the_limit_comes_back_as_the_page(client: httpx.Client) -> None:
    """Without JavaScript a too long question gets the chat page with the message and the draft kept
    (cut at the limit), not a JSON error."""
    response = client.post("/chat", data={"question": "é" * 5000, "audience": "professionnel"})
    assert response.status_code == 400 and response.headers["content-type"].startswith("text/html")
    page = assert_inert(response.text)
    assert "La question est trop longue (5000 caractères, 2000 au plus)." in "".join(page.text)
    assert "é" * MAX_QUESTION_CHARS in "".join(page.text) and "é" * (MAX_QUESTION_CHARS + 1) not in response.text


def test_clean_question() -> None:
    assert clean_question(" a\x00b\x1b[1m \u202eX\u202c\tc\n") == "a b [1m  X \tc"
    assert clean_question("e\u0301 👨‍👩‍👧 \u200d") == "e\u0301 👨‍👩‍👧 \u200d"  # combining marks, ZWJ kept
    for blank in ("", " \n", "\x00\x7f", "\u202e\u2066", "\ufeff"):
        with pytest.raises(AskError, match="La question est vide"):
            clean_question(blank)
    with pytest.raises(AskError, match="caractère invalide"):
        clean_question("a\udc80")
    with pytest.raises(AskError, match="trop longue"):
        clean_question("a" * (MAX_QUESTION_CHARS + 1))
