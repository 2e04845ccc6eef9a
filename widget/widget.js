/*
 * Marketing × Vertrieb – chat widget for intranet pages. Plain JavaScript, no build step.
 *
 *   <script src="https://HOST/widget.js" data-title="…" data-greeting="…" data-lang="de|en"
 *           data-position="bottom-right|bottom-left" data-color="#0b5394" nonce="…" async></script>
 *
 * Everything lives in a Shadow DOM (no CSS leaks either way); every text goes in through
 * textContent, never innerHTML; the conversation is kept in sessionStorage. Nothing is inline:
 * the styles come from HOST/widget.css, so a Content-Security-Policy without 'unsafe-inline'
 * holds; the snippet's nonce, if any, goes on the one element the widget may add (a <link>).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__marketingSalesWidget) return;
  window.__marketingSalesWidget = true;

  var base = new URL(script.src, location.href).origin;
  var data = script.dataset;
  var lang = data.lang === "en" ? "en" : "de";
  var TEXTS = {
    de: {
      title: "Wissensassistent",
      greeting: "Fragen Sie, wie Marketing und Vertrieb zusammenarbeiten.",
      open: "Wissensassistent öffnen",
      close: "Schließen",
      placeholder: "Ihre Frage …",
      send: "Senden",
      searching: "Quellen werden gesucht …",
      waiting: "In der Warteschlange: das Modell beantwortet gerade eine andere Frage …",
      writing: "Antwort wird geschrieben …",
      translating: "Die Antwort wird in die Sprache der Frage übersetzt …",
      asking_again: "Das Modell wird noch einmal gefragt, in der Sprache der Quellen …",
      sources: "Quellen",
      source: "Quelle",
      page: "S.",
      file: "Datei",
      notEnabled: "Der Assistent ist für diese Website nicht freigeschaltet.",
      rateLimited: "Zu viele Fragen in kurzer Zeit. Bitte in {s} Sekunden erneut versuchen.",
      tooLong: "Die Frage ist zu lang.",
      error: "Die Antwort konnte nicht geladen werden. Bitte später erneut versuchen.",
      clear: "Neues Gespräch",
    },
    en: {
      title: "Knowledge assistant",
      greeting: "Ask how marketing and sales work together.",
      open: "Open the knowledge assistant",
      close: "Close",
      placeholder: "Your question …",
      send: "Send",
      searching: "Searching the sources …",
      waiting: "Queued: the model is answering another question …",
      writing: "Writing the answer …",
      translating: "Translating the answer into the language of the question …",
      asking_again: "Asking the model again, in the language of the sources …",
      sources: "Sources",
      source: "Source",
      page: "p.",
      file: "File",
      notEnabled: "The assistant is not enabled for this site.",
      rateLimited: "Too many questions in a short time. Please try again in {s} seconds.",
      tooLong: "The question is too long.",
      error: "The answer could not be loaded. Please try again later.",
      clear: "New conversation",
    },
  }[lang];
  var config = {
    title: data.title || TEXTS.title,
    greeting: data.greeting || TEXTS.greeting,
    left: data.position === "bottom-left",
    color: /^#[0-9a-fA-F]{3,8}$/.test(data.color || "") ? data.color : "#0b5394",
    // Browsers hide a nonce attribute once the page has loaded; the property keeps it.
    nonce: script.nonce || script.getAttribute("nonce") || "",
  };
  var stylesheet = base + "/widget.css";
  var storageKey = "marketing-sales-widget:" + base;
  var state = load();
  var enabled = true;
  var busy = false;

  // A custom element name: the host page's `div { … }` rules cannot reach the shadow host.
  // It stays hidden until its stylesheet is in, so no unstyled button flashes on the page.
  var host = document.createElement("marketing-sales-widget");
  host.hidden = true;
  var root = host.attachShadow({ mode: "open" });

  var side = config.left ? "left" : "right";
  var launcher = el("button", "launcher " + side);
  launcher.type = "button";
  launcher.appendChild(chatIcon());
  launcher.setAttribute("aria-label", TEXTS.open);
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "panel");

  var panel = el("section", "panel " + side);
  panel.id = "panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", config.title);
  var header = el("header");
  var heading = el("h2", "", config.title);
  var clear = el("button", "", TEXTS.clear);
  clear.type = "button";
  var close = el("button", "", "✕");
  close.type = "button";
  close.setAttribute("aria-label", TEXTS.close);
  header.append(heading, clear, close);
  var log = el("div", "log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  var form = el("form");
  var input = el("textarea");
  input.placeholder = TEXTS.placeholder;
  input.setAttribute("aria-label", TEXTS.placeholder);
  input.maxLength = 1000;
  var send = el("button", "", TEXTS.send);
  send.type = "submit";
  form.append(input, send);
  panel.append(header, log, form);
  root.append(launcher, panel);

  launcher.addEventListener("click", function () { toggle(panel.hidden); });
  close.addEventListener("click", function () { toggle(false); });
  clear.addEventListener("click", function () { state.messages = []; save(); render(); input.focus(); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") toggle(false);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var question = input.value.trim();
    if (question && enabled && !busy) {
      input.value = "";
      ask(question);
    }
  });

  function start() {
    document.body.appendChild(host);
    render();
    loadStyles(function () {
      host.hidden = false;
      if (state.open) toggle(true);
    });
    fetch(base + "/api/health", { method: "GET" })
      .then(function (response) { if (!response.ok) disable(); })
      .catch(disable);
  }

  /*
   * The stylesheet from the assistant's origin, with the configured colour as one more rule:
   * a constructed stylesheet (CSP does not apply to it; the fetch needs connect-src, as the
   * API does), else a <link> in the shadow root (style-src or the nonce). `done` runs once the
   * styles are in, or failed to load: an unstyled widget still answers.
   */
  function loadStyles(done) {
    var accent = ":host{--accent:" + config.color + "}";
    if ("adoptedStyleSheets" in ShadowRoot.prototype && "replaceSync" in CSSStyleSheet.prototype) {
      fetch(stylesheet)
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (css) {
          var sheet = new CSSStyleSheet();
          sheet.replaceSync(css + "\n" + accent);
          root.adoptedStyleSheets = [sheet];
        })
        .then(done, done);
      return;
    }
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.crossOrigin = "anonymous"; // so its rules may be extended with the colour
    if (config.nonce) link.nonce = config.nonce;
    link.addEventListener("load", function () {
      try {
        link.sheet.insertRule(accent, link.sheet.cssRules.length);
      } finally {
        done();
      }
    });
    link.addEventListener("error", function () { done(); });
    link.href = stylesheet;
    root.prepend(link);
  }

  function toggle(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    state.open = open;
    save();
    (open ? input : launcher).focus();
  }

  function disable() {
    enabled = false;
    input.disabled = true;
    send.disabled = true;
    render();
  }

  function chatIcon() {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6v2h2V9H7zm4 0v2h2V9h-2zm4 0v2h2V9h-2z");
    svg.appendChild(path);
    return svg;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function load() {
    try {
      var stored = JSON.parse(sessionStorage.getItem(storageKey) || "{}");
      return { messages: Array.isArray(stored.messages) ? stored.messages : [], open: stored.open === true };
    } catch (error) {
      return { messages: [], open: false };
    }
  }

  function save() {
    try {
      sessionStorage.setItem(storageKey, JSON.stringify(state));
    } catch (error) {
      /* storage full or blocked: the conversation just isn't kept */
    }
  }

  function render() {
    log.replaceChildren();
    if (!enabled) {
      log.appendChild(el("div", "msg disabled", TEXTS.notEnabled));
      return;
    }
    log.appendChild(el("div", "note", config.greeting));
    state.messages.forEach(function (message) { log.appendChild(bubble(message)); });
    log.scrollTop = log.scrollHeight;
  }

  function bubble(message) {
    if (message.role === "user") return el("div", "msg user", message.text);
    var node = el("div", "msg bot");
    var citations = message.citations || [];
    var cards = el("div", "cards");
    var byNumber = {};
    citations.forEach(function (citation) {
      var card = sourceCard(citation);
      byNumber[citation.n] = card;
      cards.appendChild(card);
    });
    String(message.text).split(/(\[\d+\])/).forEach(function (part) {
      var match = /^\[(\d+)\]$/.exec(part);
      var card = match && byNumber[match[1]];
      if (!card) {
        node.appendChild(document.createTextNode(part));
        return;
      }
      var marker = el("button", "marker", part);
      marker.type = "button";
      marker.setAttribute("aria-label", TEXTS.source + " " + match[1]);
      marker.setAttribute("aria-expanded", "false");
      marker.addEventListener("click", function () {
        card.hidden = !card.hidden;
        marker.setAttribute("aria-expanded", String(!card.hidden));
        if (!card.hidden) card.focus();
      });
      node.appendChild(marker);
    });
    if (citations.length) node.appendChild(cards);
    return node;
  }

  function sourceCard(citation) {
    var card = el("div", "card");
    card.hidden = true;
    card.tabIndex = -1;
    card.appendChild(el("h3", "", "[" + citation.n + "] " + (citation.title || citation.source || "")));
    var meta = [citation.author, citation.date].filter(Boolean).join(" · ");
    if (meta) card.appendChild(el("div", "meta", meta));
    var where = el("div", "meta");
    if (/^https?:\/\//i.test(citation.url || "")) {
      var link = el("a", "", citation.url);
      link.href = citation.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      where.appendChild(link);
    } else {
      where.textContent = TEXTS.file + ": " + (citation.source || "");
    }
    if (citation.page) where.appendChild(document.createTextNode(", " + TEXTS.page + " " + citation.page));
    card.appendChild(where);
    var text = String(citation.text || "");
    var support = citation.support || {};
    var passage = el("div");
    if (support.end > support.start) {
      passage.append(
        document.createTextNode(text.slice(0, support.start)),
        el("mark", "", text.slice(support.start, support.end)),
        document.createTextNode(text.slice(support.end))
      );
    } else {
      passage.textContent = text;
    }
    card.appendChild(passage);
    return card;
  }

  function history() {
    return state.messages.slice(-6).map(function (message) {
      return { role: message.role, content: String(message.text).slice(0, 4000) };
    });
  }

  function ask(question) {
    var previous = history();
    state.messages.push({ role: "user", text: question });
    save();
    render();
    busy = true;
    send.disabled = true;
    var live = el("div", "msg bot", "");
    var status = el("div", "note", TEXTS.searching);
    log.append(live, status);
    log.scrollTop = log.scrollHeight;
    var answer = "";

    function finish(message) {
      busy = false;
      send.disabled = !enabled;
      if (message) state.messages.push(message);
      save();
      render();
    }

    fetch(base + "/api/ask/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question: question, history: previous, lang: lang }),
    })
      .then(function (response) {
        if (!response.ok) {
          var waitSeconds = response.headers.get("Retry-After") || "60";
          var text = response.status === 403 ? TEXTS.notEnabled
            : response.status === 429 ? TEXTS.rateLimited.replace("{s}", waitSeconds)
            : response.status === 413 ? TEXTS.tooLong : TEXTS.error;
          if (response.status === 403) enabled = false;
          finish({ role: "assistant", text: text, citations: [] });
          return;
        }
        return readEvents(response, function (name, payload) {
          if (name === "sources") status.textContent = TEXTS.writing;
          else if (name === "waiting") status.textContent = TEXTS.waiting;
          else if (name === "revising") {
            // The streamed text will be replaced by the checked answer: shown as provisional until then.
            live.classList.add("provisional");
            status.textContent = TEXTS[payload.step] || TEXTS.writing;
          }
          else if (name === "token") {
            answer += payload.text;
            live.textContent = answer;
            log.scrollTop = log.scrollHeight;
          } else if (name === "done") {
            finish({ role: "assistant", text: payload.answer, citations: payload.citations, abstained: payload.abstained });
          } else if (name === "error") {
            finish({ role: "assistant", text: payload.message || TEXTS.error, citations: [] });
          }
        });
      })
      .catch(function () {
        finish({ role: "assistant", text: TEXTS.error, citations: [] });
      });
  }

  function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true });
        var blocks = buffer.split("\n\n");
        buffer = blocks.pop();
        blocks.forEach(function (block) {
          var name = "message";
          var lines = [];
          block.split("\n").forEach(function (line) {
            if (line.indexOf("event:") === 0) name = line.slice(6).trim();
            else if (line.indexOf("data:") === 0) lines.push(line.slice(5).trim());
          });
          if (lines.length) onEvent(name, JSON.parse(lines.join("\n")));
        });
        return pump();
      });
    }
    return pump();
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
