// Page script for the news Q&A UI: citation markers open their source in the sources
// panel; "copy answer" buttons copy the plain answer text. Event delegation on the
// document, so it works for messages rendered after load. No network access.
(() => {
  if (window.__newsragUi) return;
  window.__newsragUi = true;

  function openSource(key) {
    const card = document.getElementById("src-" + key);
    if (!card || !card.classList.contains("src-card")) return false;
    const panel = card.closest(".sources");
    panel.classList.add("picked");
    panel.querySelectorAll(".src-turn.shown").forEach((e) => e.classList.remove("shown"));
    panel.querySelectorAll(".src-card.active").forEach((e) => e.classList.remove("active"));
    card.closest(".src-turn").classList.add("shown");
    card.classList.add("active");
    card.scrollIntoView({ block: "nearest", behavior: "smooth" });
    return true;
  }

  // Plain text of a rendered answer: line breaks kept, buttons and notes left out.
  function answerText(box) {
    const clone = (box.querySelector(".refusal-text") || box).cloneNode(true);
    clone.querySelectorAll("button, .warnings, .claim-flag").forEach((e) => e.remove());
    clone.querySelectorAll("br").forEach((e) => e.replaceWith("\n"));
    return clone.textContent.trim();
  }
  window.newsragAnswerText = answerText;

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch (e) {
        /* fall through to the textarea method */
      }
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.style.position = "fixed";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    area.remove();
    return ok;
  }

  document.addEventListener(
    "click",
    (ev) => {
      const target = ev.target instanceof Element ? ev.target : null;
      if (!target) return;
      // The Chatbot's sanitizer keeps href but drops data-* attributes.
      const cite = target.closest('a.cite[href^="#src-"]');
      if (cite) {
        ev.preventDefault();
        ev.stopPropagation();
        openSource(cite.getAttribute("href").slice(5));
        return;
      }
      const copy = target.closest(".copy-answer");
      if (copy) {
        ev.preventDefault();
        ev.stopPropagation();
        const label = copy.textContent;
        const box = copy.closest(".answer, .refusal");
        copyText(box ? answerText(box) : "").then((ok) => {
          if (!ok) return;
          copy.textContent = "✓ " + label;
          copy.classList.add("done");
          setTimeout(() => {
            copy.textContent = label;
            copy.classList.remove("done");
          }, 1500);
        });
      }
    },
    true,
  );
})();
