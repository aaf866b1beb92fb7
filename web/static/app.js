// Progressive enhancement: with JavaScript the answer streams in (server-sent events) and the
// conversation grows on the page; without it, the form posts and the page comes back answered.
"use strict";
(function () {
  const form = document.getElementById("ask-form");
  const conversation = document.getElementById("conversation");
  if (!form || !conversation || !window.fetch || !window.TextDecoder) return;
  const previous = [];
  const textarea = form.querySelector("#question");
  // Enter sends, Shift+Enter adds a line.
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  // Feedback is sent in place: the conversation stays on the page (without JavaScript the form posts).
  conversation.addEventListener("submit", (event) => {
    const feedback = event.target;
    if (!(feedback instanceof HTMLFormElement) || feedback.getAttribute("action") !== "/feedback") return;
    event.preventDefault();
    const button = feedback.querySelector("button");
    if (button) button.disabled = true;
    const say = (message, role) => {
      const status = document.createElement("p");
      status.setAttribute("role", role);
      status.className = "meta";
      status.textContent = message;
      return status;
    };
    fetch("/feedback", { method: "POST", body: new FormData(feedback) })
      .then((response) => {
        if (!response.ok) throw new Error(String(response.status));
        feedback.closest("details").replaceWith(say("Merci, votre avis a été enregistré.", "status"));
      })
      .catch(() => {
        if (button) button.disabled = false;
        feedback.append(say("Votre avis n'a pas pu être enregistré. Réessayez dans un instant.", "alert"));
      });
  });
  // « Copier la réponse »: the answer's text, its sources list included (shown only with JavaScript).
  const enableCopy = (root) => {
    root.querySelectorAll("button.copy").forEach((button) => {
      if (!navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", () => {
        const turn = button.closest("article");
        const parts = [turn.querySelector(".answer"), turn.querySelector(".sources")].filter(Boolean);
        navigator.clipboard.writeText(parts.map((part) => part.innerText.trim()).join("\n\n"))
          .then(() => { button.textContent = "Réponse copiée"; })
          .catch(() => { button.textContent = "Copie impossible"; });
      });
    });
  };
  enableCopy(conversation);
  // The example questions of the first screen fill the box.
  document.querySelectorAll("button.example").forEach((button) => {
    button.addEventListener("click", () => {
      textarea.value = button.getAttribute("data-question");
      textarea.focus();
    });
  });
  form.querySelectorAll('input[name="previous"]').forEach((input) => previous.push(input.value));
  form.addEventListener("submit", (event) => {
    const question = textarea.value.trim();
    if (!question) return;
    event.preventDefault();
    const audience = form.querySelector('input[name="audience"]').value;
    const params = new URLSearchParams({ question: question, audience: audience });
    previous.slice(-5).forEach((q) => params.append("previous", q));
    const turn = document.createElement("article");
    turn.className = "turn";
    turn.setAttribute("aria-live", "polite");
    const asked = document.createElement("p");
    asked.className = "question";
    asked.textContent = question;
    const streaming = document.createElement("div");
    streaming.className = "answer streaming";
    streaming.textContent = "Repère cherche dans les fiches…";
    const welcome = document.querySelector(".welcome");
    if (welcome) welcome.remove();
    turn.append(asked, streaming);
    conversation.append(turn);
    textarea.value = "";
    form.querySelector("button").disabled = true;
    let text = "";
    let finished = false;
    const fail = (message) => {
      finished = true;
      streaming.textContent = message;
      form.querySelector("button").disabled = false;
    };
    const handle = (name, data) => {
      if (name === "chunk") {
        text += JSON.parse(data);
        streaming.textContent = text;
      } else if (name === "done") {
        finished = true;
        const payload = JSON.parse(data);
        const template = document.createElement("template");
        template.innerHTML = payload.html; // rendered server-side by an autoescaping template
        const answered = template.content.firstElementChild;
        turn.replaceWith(template.content);
        if (answered) enableCopy(answered);
        previous.push(question);
        form.querySelector("button").disabled = false;
        if (answered) { answered.focus(); } // read from the start of the answer; the form follows it
      } else if (name === "error") {
        fail(JSON.parse(data).detail);
      }
    };
    // The question travels in the POST body (not in a URL); the answer comes back as server-sent events.
    fetch("/api/ask/stream", { method: "POST", body: params, headers: { Accept: "text/event-stream" } })
      .then((response) => {
        if (!response.ok || !response.body) throw new Error(String(response.status));
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        const read = () => reader.read().then(({ done, value }) => {
          buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) { // one event: "event: name" and "data: …" lines
            const lines = buffer.slice(0, end).split("\n");
            buffer = buffer.slice(end + 2);
            const name = (lines.find((l) => l.startsWith("event:")) || "event: message").slice(6).trim();
            const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, "")).join("\n");
            handle(name, data);
          }
          if (!done) return read();
          if (!finished) fail("La connexion a été interrompue. Réessayez.");
          return undefined;
        });
        return read();
      })
      .catch(() => { if (!finished) fail("La connexion a été interrompue. Réessayez."); });
  });
})();
