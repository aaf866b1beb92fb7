"""The page in a real headless Chromium (Debian's, driven by Playwright): choose an audience, ask,
see the streamed answer, open a citation and see the highlighted passage, give feedback.
Screenshots at phone (360 px) and desktop width go to test-artifacts/."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from .conftest import ARTIFACTS, CHROMIUM, READY_CAP_SECONDS, TRAINER_TOKEN

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (.ci/run installs it)"
)


@pytest.mark.parametrize(("width", "height", "name"), [(360, 780, "telephone"), (1280, 900, "bureau")])
def test_family_asks_reads_and_gives_feedback(
    browser: object, server: str, server_folder: Path, width: int, height: int, name: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(server)
    page.get_by_role("link", name="Je suis un parent / une famille").click()
    page.get_by_label("Votre question").fill(f"horaires de la clef des petits ({name})")
    page.get_by_role("button", name="Envoyer").click()
    answer = page.locator("article.turn").last
    answer.locator(".sources").wait_for(timeout=15000)  # the streamed answer was replaced by the final one
    assert answer.locator(".lead").inner_text().strip()  # the answer's first sentence, then its fiche's card
    assert "Clef" in answer.locator("section.card h3").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / f"reponse-{name}.png"), full_page=False)
    body_width = page.evaluate("document.documentElement.scrollWidth")
    assert body_width <= width + 1, "no horizontal scrolling at this width"

    answer.locator("details.feedback summary").click()
    answer.get_by_label("Utile", exact=True).check()
    answer.get_by_label("Commentaire (facultatif, sans nom ni information personnelle)").fill(
        f"essai navigateur {name}"
    )
    url = page.url
    answer.get_by_role("button", name="Envoyer mon avis").click()
    answer.get_by_text("Merci, votre avis a été enregistré.").wait_for()  # in place, in the answer
    assert page.url == url and page.locator("article.turn .lead").count() == 1  # the conversation stayed
    with sqlite3.connect(server_folder / "feedback.sqlite3") as db:
        stored = db.execute("SELECT useful FROM feedback WHERE comment = ?", (f"essai navigateur {name}",)).fetchall()
    assert stored == [(1,)]
    assert not errors, errors
    page.goto(f"{server}/formateurs")  # the trainer finds it on the trainer page (401 until logged in)
    page.get_by_label("Jeton de formateur").fill(TRAINER_TOKEN)
    page.get_by_role("button", name="Entrer").click()
    page.get_by_text(f"« essai navigateur {name} »").wait_for()
    page.screenshot(path=str(ARTIFACTS / f"formateurs-{name}.png"))
    assert not [e for e in errors if "401" not in e], errors


def test_citation_opens_the_highlighted_passage(browser: object, server: str) -> None:
    page = browser.new_page(viewport={"width": 360, "height": 780})  # type: ignore[attr-defined]
    page.goto(f"{server}/chat?public=famille")
    page.get_by_label("Votre question").fill(
        "numéro de téléphone de l'accueil de jour la Clef à Saint-Clair-de-la-Tour"
    )
    page.get_by_role("button", name="Envoyer").click()
    page.locator("article.turn .sources").wait_for(timeout=15000)
    phone = page.locator('article.turn .answer a[href^="tel:0"]').first  # the number is tappable
    assert phone.is_visible() and phone.get_attribute("href") == "tel:0474333718"
    with page.context.expect_page() as opened:  # the passage opens beside the conversation, in a new tab
        page.locator("article.turn .sources a").first.click()
    source = opened.value
    passage = source.locator("mark#passage")
    passage.wait_for()
    assert passage.is_visible() and source.evaluate("location.hash") == "#passage"
    box = passage.bounding_box()
    assert box is not None and 0 <= box["y"] < 780, "the highlighted passage is scrolled into view"
    source.close()
    assert page.locator("article.turn .sources").count() == 1  # the conversation is still there


@pytest.mark.parametrize(("width", "height", "name"), [(360, 780, "telephone"), (1280, 900, "bureau")])
def test_professional_answer_and_its_source_page(
    browser: object, server: str, width: int, height: int, name: str
) -> None:
    """A professional's answer (the fiche's pilot, cited), then its source page with the passage highlighted,
    both without horizontal scrolling; screenshots of each at both widths."""
    page = browser.new_page(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    page.goto(f"{server}/chat?public=professionnel")
    page.get_by_label("Votre question").fill("Qui pilote la fiche action n°32 du schéma de l'Isère ?")
    page.get_by_role("button", name="Envoyer").click()
    answer = page.locator("article.turn").last
    answer.locator(".sources").wait_for(timeout=READY_CAP_SECONDS * 1000)
    assert "pilot" in answer.locator(".answer").inner_text() and answer.locator(".sources a").count()
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    page.screenshot(path=str(ARTIFACTS / f"reponse-professionnel-{name}.png"))
    with page.context.expect_page() as opened:
        answer.locator(".sources a").first.click()
    source = opened.value
    passage = source.locator("mark#passage")
    passage.wait_for(timeout=READY_CAP_SECONDS * 1000)
    assert passage.is_visible() and source.evaluate("document.documentElement.scrollWidth") <= width + 1
    source.screenshot(path=str(ARTIFACTS / f"source-{name}.png"))
    source.close()
    page.close()


def test_professional_and_emergency_block(browser: object, server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(f"{server}/chat?public=professionnel")
    page.get_by_label("Votre question").fill("un élève de CE2 arrive avec des bleus, il dit que son père le frappe")
    page.get_by_role("button", name="Envoyer").click()
    emergency = page.locator("article.turn .emergency").first
    emergency.wait_for(timeout=15000)
    assert "119" in emergency.inner_text() and emergency.is_visible()
    assert emergency.locator('a[href="tel:119"]').first.is_visible() and emergency.locator('a[href="tel:17"]').count()
    page.screenshot(path=str(ARTIFACTS / "urgence-bureau.png"))


def test_keyboard_only(browser: object, server: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(server)
    for _ in range(6):  # skip link, brand, then the first audience choice
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent").startswith("Je suis un parent"):
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/chat?public=famille")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "question":
            break
    page.keyboard.type("un groupe de parents à Roanne ?")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Envoyer"
    page.keyboard.press("Enter")
    page.locator("article.turn .sources").wait_for(timeout=15000)
    assert page.evaluate("document.activeElement.tagName") == "ARTICLE"  # focus moves to the new answer


@pytest.mark.parametrize("javascript", [True, False], ids=["streamed", "sans-javascript"])
def test_markup_in_a_question_stays_text(browser: object, server: str, javascript: bool) -> None:
    """HTML/JS in a question is shown as text on both paths: nothing is parsed into elements and nothing
    runs (checked in the DOM, not only thanks to the Content-Security-Policy)."""
    payload = '"><img src=x onerror="window.__xss=1"><script>window.__xss=2</script> {{7*7}} accueil'
    context = browser.new_context(java_script_enabled=javascript)  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(f"{server}/chat?public=famille")
        page.get_by_label("Votre question").fill(payload)
        page.get_by_role("button", name="Envoyer").click()
        page.locator("article.turn details.feedback").last.wait_for(state="attached", timeout=15000)
        assert payload in page.locator("article.turn p.question").last.inner_text()
        assert page.locator("#conversation img, #conversation script, #conversation svg").count() == 0
        if javascript:
            assert page.evaluate("window.__xss") is None
        assert not dialogs
    finally:
        context.close()


def test_api_docs_render_under_the_csp(browser: object, server: str) -> None:
    """/docs shows the API's operations from the app's own files: no CDN, no inline script, no CSP error."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("request", lambda request: requests.append(request.url))
    page.on(
        "response",
        lambda response: errors.append(f"{response.status} {response.url}") if response.status >= 400 else None,
    )
    page.goto(f"{server}/docs")
    try:
        page.locator(".opblock").first.wait_for(timeout=30000)
    except Exception as error:  # pragma: no cover - the failure shows what the page said
        raise AssertionError(f"{errors} {requests} {page.content()[-3000:]}") from error
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/ask" in p for p in paths) and any("/v1/chat/completions" in p for p in paths)
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    assert all(url.startswith(server) for url in requests), [u for u in requests if not u.startswith(server)]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "docs-bureau.png"), full_page=False)
    page.close()


@pytest.mark.parametrize(("width", "height", "name"), [(360, 780, "telephone"), (1280, 900, "bureau")])
def test_first_screen_examples_and_enter_sends(
    browser: object, server: str, width: int, height: int, name: str
) -> None:
    """The empty chat says what is covered and that it is not an emergency service, with tappable numbers;
    an example question fills the box; Shift+Enter adds a line, Enter sends."""
    page = browser.new_page(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    page.goto(f"{server}/chat?public=famille")
    welcome = page.locator(".welcome")
    assert "Isère" in welcome.inner_text() and "Loire" in welcome.inner_text() and "2017-2021" in welcome.inner_text()
    assert welcome.locator('a[href="tel:119"]').is_visible() and "pas un service d'urgence" in welcome.inner_text()
    examples = page.locator("button.example")
    assert examples.count() == 3
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"accueil-chat-{name}.png"), full_page=False)
    examples.first.click()
    box = page.get_by_label("Votre question (vous pouvez écrire simplement, sans accents)")
    assert box.input_value() == examples.first.get_attribute("data-question")
    box.press("End")
    box.press("Shift+Enter")
    assert box.input_value().endswith("\n")  # a new line, nothing sent
    assert page.locator("article.turn").count() == 0
    box.press("Enter")
    page.locator("article.turn .sources").wait_for(timeout=15000)
    assert page.locator(".welcome").count() == 0 and page.locator("article.turn .lead").count() == 1


def test_copy_the_answer(browser: object, server: str) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(f"{server}/chat?public=professionnel")
        page.get_by_label("Votre question").fill("qui pilote la fiche action 32 du schéma de l'Isère ?")
        page.get_by_role("button", name="Envoyer").click()
        page.locator("article.turn .sources").wait_for(timeout=15000)
        page.get_by_role("button", name="Copier la réponse").click()
        page.get_by_role("button", name="Réponse copiée").wait_for()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert "est pilotée par" in copied and "[1]" in copied and "Schéma en faveur" in copied  # sources too
    finally:
        context.close()
