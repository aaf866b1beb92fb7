// Progressive enhancement: with JavaScript the answer streams in (server-sent events) and the
// conversation grows on the page; without it, the form posts and the page comes back answered.
"use strict";
(function () {
  const form = document.getElementById("ask-form");
  const conversation = document.getElementById("conversation");
  if (!form || !conversation || !window.EventSource) return;
  const previous = [];
  form.querySelectorAll('input[name="previous"]').forEach((input) => previous.push(input.value));
  form.addEventListener("submit", (event) => {
    const textarea = form.querySelector("#question");
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
    streaming.textContent = "…";
    turn.append(asked, streaming);
    conversation.append(turn);
    textarea.value = "";
    form.querySelector("button").disabled = true;
    const source = new EventSource("/api/ask/stream?" + params.toString());
    let text = "";
    source.addEventListener("chunk", (e) => {
      text += JSON.parse(e.data);
      streaming.textContent = text;
    });
    source.addEventListener("done", (e) => {
      const payload = JSON.parse(e.data);
      const template = document.createElement("template");
      template.innerHTML = payload.html; // rendered server-side by an autoescaping template
      const answered = template.content.firstElementChild;
      turn.replaceWith(template.content);
      previous.push(question);
      source.close();
      form.querySelector("button").disabled = false;
      if (answered) { answered.focus(); } // read from the start of the answer; the form follows it
    });
    const fail = (message) => {
      streaming.textContent = message;
      source.close();
      form.querySelector("button").disabled = false;
    };
    source.addEventListener("error", (e) => {
      if (e.data) { fail(JSON.parse(e.data).detail); } else if (source.readyState !== EventSource.OPEN) { fail("La connexion a été interrompue. Réessayez."); }
    });
  });
})();
