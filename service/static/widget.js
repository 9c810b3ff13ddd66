/*
 * <peace-chat>: a chat widget that answers from the documents with verbatim citations.
 *
 *   <script src="https://HOST/widget.js" defer></script>
 *   <peace-chat endpoint="https://HOST" mode="launcher|inline"></peace-chat>
 *
 * Plain JavaScript, no build step. Everything lives in a shadow root so the host page's CSS
 * cannot reach it. Talks to POST /ask/stream (Server-Sent Events read with fetch, because
 * EventSource cannot POST) and POST /feedback. The conversation is kept in sessionStorage and
 * sent as `history`; the server keeps no state.
 */
(() => {
  "use strict";
  if (window.customElements.get("peace-chat")) return;

  // Where this file was loaded from: the default endpoint.
  const SCRIPT_ORIGIN = (() => {
    try {
      return new URL(document.currentScript.src).origin;
    } catch (_) {
      return window.location.origin;
    }
  })();

  const HISTORY_TURNS = 12; // the server accepts 20 by default
  const HISTORY_CHARS = 1500; // the server accepts 4000 per turn by default
  const STORED_MESSAGES = 40;
  const TIMEOUT_MS = 60000;

  const ICONS = {
    chat: '<svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z"/></svg>',
    close: '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false"><path fill="currentColor" d="M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19l5.6-5.6 5.6 5.6 1.4-1.4-5.6-5.6L19 6.4 17.6 5 12 10.6z"/></svg>',
    up: '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false"><path fill="currentColor" d="M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6c-.4.4-.6.9-.6 1.4v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z"/></svg>',
    down: '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false"><path fill="currentColor" d="M22 3h-4v12h4V3zM2 14a2 2 0 0 0 2 2h6.3l-1 4.6v.3c0 .4.2.8.4 1.1l1.1 1 6.6-6.6c.4-.4.6-.9.6-1.4V5a2 2 0 0 0-2-2H7c-.8 0-1.5.5-1.8 1.2l-3 7.1c-.1.2-.2.5-.2.7v2z"/></svg>',
  };

  const CSS = `
    :host { display: block; --pc-accent: #1d4ed8; --pc-accent-soft: #eff6ff; --pc-border: #d1d5db;
      --pc-muted: #4b5563; --pc-focus: #f59e0b; }
    :host([hidden]) { display: none; }
    /* The page's rules beat :host ones, and inherited properties (font, letter-spacing, ...)
       flow into the shadow tree through the host; resetting this inner element stops them. */
    .frame { all: initial; display: block; color: #1f2937; text-align: left;
      font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
    *, *::before, *::after { box-sizing: border-box; }
    [hidden] { display: none !important; }
    button { font: inherit; color: inherit; cursor: pointer; }
    button:disabled { cursor: default; opacity: .55; }
    :focus-visible { outline: 3px solid var(--pc-focus); outline-offset: 2px; }
    .panel { display: flex; flex-direction: column; background: #fff; border: 1px solid var(--pc-border);
      border-radius: 12px; overflow: hidden; min-width: 0; }
    .inline .panel { height: var(--peace-chat-height, 560px); width: 100%; }
    .launcher .panel { position: fixed; right: 16px; bottom: 88px; z-index: 2147483000;
      width: min(400px, calc(100vw - 32px)); height: min(620px, calc(100vh - 112px));
      box-shadow: 0 12px 32px rgba(0,0,0,.22); }
    .bubble { position: fixed; right: 16px; bottom: 16px; z-index: 2147483000; width: 60px; height: 60px;
      border-radius: 50%; border: 0; background: var(--pc-accent); color: #fff;
      display: grid; place-items: center; box-shadow: 0 6px 18px rgba(0,0,0,.25); }
    @media (max-width: 480px) {
      .launcher .panel { left: 8px; right: 8px; width: auto; bottom: 84px; height: calc(100vh - 96px); }
    }
    header { display: flex; align-items: center; gap: 8px; padding: 10px 12px;
      background: var(--pc-accent); color: #fff; }
    header h2 { flex: 1; margin: 0; font-size: 16px; font-weight: 650; line-height: 1.3; min-width: 0; }
    header button { background: transparent; border: 1px solid rgba(255,255,255,.6); color: #fff;
      border-radius: 6px; padding: 3px 8px; font-size: 13px; display: inline-flex; align-items: center; }
    .log { position: relative; flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 10px;
      background: #fafafa; min-height: 0; }
    .intro { color: var(--pc-muted); font-size: 14px; margin: 0; }
    .msg { border-radius: 12px; padding: 9px 12px; overflow-wrap: anywhere; min-width: 0; }
    .user { align-self: flex-end; max-width: 88%; background: var(--pc-accent); color: #fff;
      border-bottom-right-radius: 4px; white-space: pre-wrap; }
    .rewritten { align-self: flex-end; max-width: 88%; margin-top: -6px; font-size: 12px; color: var(--pc-muted); }
    .answer { align-self: stretch; background: #fff; border: 1px solid #e5e7eb; border-bottom-left-radius: 4px; }
    .answer p { margin: 0 0 8px; }
    .answer p:last-of-type { margin-bottom: 0; }
    .answer .text { white-space: pre-line; }
    .answer[aria-busy="true"] .text::after { content: "▍"; color: var(--pc-accent); }
    .cite { display: inline-block; min-width: 26px; padding: 0 6px; margin: 0 1px; line-height: 20px;
      font-size: 12px; font-weight: 700; border-radius: 6px; border: 1px solid #93c5fd;
      background: var(--pc-accent-soft); color: #1e3a8a; vertical-align: 1px; }
    .cite:hover { background: #dbeafe; }
    .cite[aria-expanded="true"] { background: var(--pc-accent); border-color: var(--pc-accent); color: #fff; }
    /* The short exact answer, above the quotes. After the ".answer p" rules, which it overrides. */
    .answer p.short { margin: 0 0 10px; padding: 8px 10px; border-radius: 8px; border: 1px solid #bfdbfe;
      background: var(--pc-accent-soft); }
    .short .short-label { display: block; font-size: 11px; font-weight: 700; text-transform: uppercase;
      letter-spacing: .04em; color: var(--pc-muted); }
    .short .short-text { font-size: 18px; font-weight: 700; line-height: 1.35; color: #111827; margin-right: 4px; }
    .sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
      clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
    .abstained { background: #fffbeb; border: 1px dashed #d97706; }
    .badge { display: inline-block; margin-bottom: 6px; padding: 1px 8px; border-radius: 999px;
      font-size: 12px; font-weight: 700; letter-spacing: .02em; background: #fde68a; color: #78350f; }
    .related { margin-top: 8px; font-size: 13px; }
    .related h3 { margin: 0 0 4px; font-size: 13px; font-weight: 650; color: #78350f; }
    .related ul { margin: 0; padding-left: 18px; }
    .related li { margin: 0 0 6px; }
    .related .snippet { color: var(--pc-muted); display: block; }
    .quote { white-space: normal; margin: 8px 0 10px; padding: 10px 12px; border: 1px solid #bfdbfe; border-left: 4px solid var(--pc-accent);
      border-radius: 8px; background: var(--pc-accent-soft); }
    .quote .qhead { display: flex; align-items: center; justify-content: space-between; gap: 8px;
      font-size: 12px; font-weight: 700; color: #1e3a8a; text-transform: uppercase; letter-spacing: .03em; }
    .quote .qhead button { border: 0; background: transparent; padding: 4px; border-radius: 6px; display: inline-flex; }
    .quote blockquote { margin: 6px 0 8px; font-family: Georgia, "Times New Roman", serif; font-size: 15px;
      white-space: pre-wrap; }
    .quote .src { font-size: 13px; color: #1f2937; }
    .quote .src strong { display: block; }
    .quote .where { font-size: 12px; color: var(--pc-muted); margin-top: 2px; }
    .est { display: inline-block; padding: 0 6px; border-radius: 999px; font-size: 11px; font-weight: 700;
      background: #fde68a; color: #78350f; }
    .feedback { display: flex; align-items: center; gap: 6px; margin-top: 8px; font-size: 12px; color: var(--pc-muted); }
    .feedback button { width: 34px; height: 30px; display: inline-grid; place-items: center; border-radius: 6px;
      border: 1px solid var(--pc-border); background: #fff; color: #374151; }
    .feedback button[aria-pressed="true"] { background: var(--pc-accent); border-color: var(--pc-accent); color: #fff; opacity: 1; }
    .error { align-self: stretch; background: #fef2f2; border: 1px solid #fca5a5; color: #7f1d1d; }
    .error p { margin: 0 0 8px; }
    .error button { border: 1px solid #b91c1c; background: #fff; color: #7f1d1d; border-radius: 6px; padding: 4px 12px; }
    .status { min-height: 20px; padding: 2px 12px; font-size: 12px; color: var(--pc-muted); background: #fafafa; }
    form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e5e7eb; background: #fff; }
    textarea { flex: 1; min-width: 0; resize: none; font: inherit; color: inherit; padding: 8px 10px; height: 42px;
      max-height: 120px; border: 1px solid #9ca3af; border-radius: 8px; background: #fff; }
    .send { flex: none; border: 0; border-radius: 8px; padding: 0 16px; background: var(--pc-accent); color: #fff; font-weight: 650; }
    /* Viewpoints: one card per source, side by side where there is room, stacked otherwise. */
    .lead { font-size: 13px; color: var(--pc-muted); }
    .viewpoints { display: grid; grid-template-columns: repeat(auto-fit, minmax(210px, 1fr)); gap: 8px; margin-top: 4px; }
    .vp { border: 1px solid #e5e7eb; border-top: 3px solid var(--pc-accent); border-radius: 8px; padding: 8px 10px;
      background: #fff; min-width: 0; }
    .vp.opinion { border-top-color: #b45309; }
    .vp h4 { margin: 0; font-size: 14px; line-height: 1.3; }
    .vp .meta { font-size: 12px; color: var(--pc-muted); margin: 2px 0 6px; }
    .kind { display: inline-block; padding: 0 6px; border-radius: 999px; font-size: 11px; font-weight: 700;
      background: #e5e7eb; color: #374151; margin-left: 4px; }
    .kind.opinion { background: #fed7aa; color: #7c2d12; }
    .answer .vp p, .answer .timeline p { margin: 0 0 6px; font-size: 14px; }
    .more { margin-top: 8px; border: 1px solid #93c5fd; background: var(--pc-accent-soft); color: #1e3a8a;
      border-radius: 6px; padding: 3px 10px; font-size: 13px; font-weight: 650; }
    /* A timeline: a vertical list of dated events, oldest first. */
    .timeline { list-style: none; margin: 8px 0 0; padding: 0 0 0 16px; border-left: 2px solid #bfdbfe; }
    .timeline li { position: relative; margin: 0 0 10px; }
    .timeline li::before { content: ""; position: absolute; left: -22px; top: 5px; width: 10px; height: 10px;
      border-radius: 50%; background: var(--pc-accent); border: 2px solid #fff; }
    .timeline time { display: block; font-weight: 700; font-size: 13px; }
    .timeline .meta { font-size: 12px; color: var(--pc-muted); }
  `;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "html") node.innerHTML = value; // only ever our own constant icons
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function formatDate(iso, estimated) {
    if (!iso) return "undated";
    const parts = iso.split("-").map(Number);
    if (!parts[0]) return iso;
    const date = new Date(Date.UTC(parts[0], (parts[1] || 1) - 1, parts[2] || 1));
    const opts = { year: "numeric", timeZone: "UTC" };
    if (parts[1]) opts.month = "long";
    if (parts[2] && !estimated) opts.day = "numeric";
    return new Intl.DateTimeFormat("en-GB", opts).format(date);
  }

  // The answer text leads with the short answer ("June 22, 2026."): shown as the headline, the
  // line is dropped from the text below it. Any other first line is kept.
  function withoutShortLine(text, short) {
    const cut = text.indexOf("\n");
    const first = (cut < 0 ? text : text.slice(0, cut)).replace(/(\s*\[\d+\])+\s*$/, "").trim();
    const bare = (s) => s.trim().replace(/\.$/, "");
    if (!short || bare(first) !== bare(short)) return text;
    return cut < 0 ? "" : text.slice(cut + 1);
  }

  // Server-Sent Events from a fetch() body: yields {event, data} per message.
  async function* readEvents(body) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let carry = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      let text = carry + decoder.decode(value, { stream: true });
      carry = "";
      // A CR at the end may be the first half of a CRLF split across reads.
      if (text.endsWith("\r")) {
        carry = "\r";
        text = text.slice(0, -1);
      }
      buffer += text.replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (!line || line.startsWith(":")) continue; // comments are keep-alive pings
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          let val = colon < 0 ? "" : line.slice(colon + 1);
          if (val.startsWith(" ")) val = val.slice(1);
          if (field === "event") event = val;
          else if (field === "data") data.push(val);
        }
        if (data.length) yield { event, data: data.join("\n") };
      }
    }
  }

  class ServiceError extends Error {}

  let instances = 0;

  class PeaceChat extends HTMLElement {
    static get observedAttributes() {
      return ["mode"];
    }

    constructor() {
      super();
      this.uid = `pc${++instances}`;
      this.root = this.attachShadow({ mode: "open" });
      this.messages = [];
      this.nodes = new WeakMap(); // user message -> its bubble
      this.busy = false;
      this.built = false;
    }

    get endpoint() {
      return (this.getAttribute("endpoint") || SCRIPT_ORIGIN).replace(/\/+$/, "");
    }

    get mode() {
      return this.getAttribute("mode") === "inline" ? "inline" : "launcher";
    }

    get storageKey() {
      return `peace-chat:v1:${this.endpoint}:${this.id || ""}`;
    }

    connectedCallback() {
      if (this.built) return;
      this.built = true;
      this.build();
      this.restore();
    }

    attributeChangedCallback() {
      if (this.built) this.applyMode();
    }

    // -- layout -----------------------------------------------------------------------------
    build() {
      const titleId = `${this.uid}-title`;
      this.log = el("div", {
        class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
        "aria-labelledby": titleId, tabindex: "0",
      });
      this.status = el("div", { class: "status", role: "status", "aria-live": "polite" });
      this.input = el("textarea", {
        "data-testid": "chat-input", rows: "1", maxlength: "2000",
        "aria-label": "Your question",
        placeholder: this.getAttribute("placeholder") || "Ask about the documents…",
        onkeydown: (e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            this.submit();
          }
        },
      });
      this.sendButton = el("button", {
        class: "send", type: "submit", "data-testid": "chat-send", "aria-label": "Send question", text: "Send",
      });
      const form = el("form", { onsubmit: (e) => { e.preventDefault(); this.submit(); } }, this.input, this.sendButton);
      this.closeButton = el("button", {
        type: "button", "aria-label": "Close chat", html: ICONS.close, onclick: () => this.setOpen(false),
      });
      const header = el(
        "header", {},
        el("h2", { id: titleId, text: this.getAttribute("heading") || "Ask the documents" }),
        el("button", {
          type: "button", "data-testid": "chat-timeline-control", text: "Timeline",
          "aria-label": "Timeline of the current topic", onclick: () => this.showTimeline(),
        }),
        el("button", { type: "button", "aria-label": "Start a new conversation", text: "New", onclick: () => this.reset() }),
        this.closeButton,
      );
      this.panel = el("section", {
        class: "panel", id: `${this.uid}-panel`, "aria-labelledby": titleId,
        onkeydown: (e) => {
          if (e.key !== "Escape") return;
          if (this.quoteOwner) this.closeQuote(true);
          else if (this.mode === "launcher") this.setOpen(false);
        },
      }, header, this.log, this.status, form);
      this.bubble = el("button", {
        class: "bubble", type: "button", "aria-label": "Open chat", "aria-expanded": "false",
        "aria-controls": this.panel.id, html: ICONS.chat, onclick: () => this.setOpen(!this.open),
      });
      this.quote = el("div", {
        class: "quote", "data-testid": "chat-quote", role: "region", "aria-label": "Quoted source",
        id: `${this.uid}-quote`, hidden: true,
      });
      this.frame = el("div", {}, this.panel, this.bubble);
      this.root.append(el("style", { text: CSS }), this.frame);
      this.applyMode();
    }

    applyMode() {
      const launcher = this.mode === "launcher";
      this.frame.className = `frame ${launcher ? "launcher" : "inline"}`;
      this.bubble.hidden = !launcher;
      this.closeButton.hidden = !launcher;
      this.setOpen(launcher ? this.open === true : true, false);
    }

    // byUser: remember the choice across reloads and move focus; not when restoring.
    setOpen(open, byUser = true) {
      this.open = open;
      this.panel.hidden = !open;
      this.bubble.setAttribute("aria-expanded", String(open));
      this.bubble.setAttribute("aria-label", open ? "Close chat" : "Open chat");
      this.bubble.innerHTML = open ? ICONS.close : ICONS.chat;
      if (this.mode === "launcher" && byUser) {
        try {
          window.sessionStorage.setItem(`${this.storageKey}:open`, open ? "1" : "");
        } catch (_) { /* storage may be disabled */ }
        (open ? this.input : this.bubble).focus();
      }
    }

    // -- conversation state ------------------------------------------------------------------
    restore() {
      try {
        const saved = JSON.parse(window.sessionStorage.getItem(this.storageKey) || "null");
        if (saved && Array.isArray(saved.messages)) this.messages = saved.messages;
        const last = this.messages[this.messages.length - 1];
        if (last && last.role === "user") {
          // The page was left while an answer was streaming.
          this.messages.push({ role: "assistant", error: "The answer was interrupted." });
        }
        if (this.mode === "launcher" && window.sessionStorage.getItem(`${this.storageKey}:open`)) {
          this.setOpen(true, false);
        }
      } catch (_) {
        this.messages = [];
      }
      this.renderAll();
    }

    save() {
      this.messages = this.messages.slice(-STORED_MESSAGES);
      try {
        window.sessionStorage.setItem(this.storageKey, JSON.stringify({ messages: this.messages }));
      } catch (_) { /* storage full or disabled: the conversation just won't survive a reload */ }
    }

    reset() {
      this.messages = [];
      this.save();
      this.renderAll();
      this.setStatus("");
      this.input.focus();
    }

    history(before) {
      // Completed exchanges only: a question whose answer failed is not context.
      const turns = [];
      for (let i = 0; i < before; i++) {
        const m = this.messages[i];
        const next = this.messages[i + 1];
        if (m.role === "user" && next && next.role === "assistant" && next.body) {
          turns.push({ role: "user", content: m.content });
          turns.push({ role: "assistant", content: next.body.answer.slice(0, HISTORY_CHARS) });
        }
      }
      return turns.slice(-HISTORY_TURNS);
    }

    // -- rendering ---------------------------------------------------------------------------
    renderAll() {
      this.closeQuote(false);
      this.log.textContent = "";
      if (!this.messages.length) {
        this.log.append(el("p", {
          class: "intro",
          text: "Answers quote the documents word for word. Select a numbered marker like [1] to see the quote and its source.",
        }));
      }
      for (const m of this.messages) this.log.append(this.renderMessage(m));
      const users = this.messages.filter((m) => m.role === "user");
      this.showExchange(users[users.length - 1]);
    }

    // Scroll the log (not the page) so the question is at the top and its answer follows.
    showExchange(user) {
      const bubble = user && this.nodes.get(user);
      this.log.scrollTop = bubble ? bubble.offsetTop - 8 : 0;
    }

    renderMessage(m) {
      if (m.role === "user") {
        const bubble = el("div", { class: "msg user", text: m.content });
        this.nodes.set(m, bubble);
        const frag = document.createDocumentFragment();
        frag.append(bubble);
        if (m.rewritten) frag.append(this.renderRewritten(m.rewritten));
        return frag;
      }
      if (m.timeline) return this.renderTimelineMessage(m);
      return m.error ? this.renderError(m) : this.renderAnswer(m);
    }

    renderRewritten(text) {
      return el("div", { class: "rewritten", text: `Searched for: ${text}` });
    }

    renderAnswer(m) {
      const body = m.body;
      const node = el("article", {
        class: `msg answer${body.abstained ? " abstained" : ""}`, "data-testid": "chat-answer",
        "aria-label": body.abstained ? "No answer in the documents" : "Answer",
      });
      if (body.abstained) {
        node.append(el("span", { class: "badge", "data-testid": "chat-abstained", text: "Not in the documents" }));
      }
      const citations = body.citations || [];
      let answer = body.answer;
      if (!body.abstained && body.short_answer) {
        node.append(this.renderShortAnswer(body.short_answer, body.short_answer_citation, citations));
        answer = withoutShortLine(answer, body.short_answer);
      }
      if (body.viewpoints && body.viewpoints.length) {
        node.append(el("p", {
          class: "lead",
          text: body.viewpoints.length === 1
            ? "Only one source speaks to this:"
            : "What each source says, newest first — who says it and when, not who is right.",
        }));
        node.append(this.renderViewpoints(body.viewpoints, citations));
      } else {
        const text = el("div", { class: "text" });
        this.renderText(text, answer, citations);
        node.append(text);
      }
      if (body.timeline && body.timeline.length) {
        const list = this.renderTimeline(body.timeline);
        list.hidden = true;
        const toggle = el("button", {
          type: "button", class: "more", "data-testid": "chat-timeline-toggle", "aria-expanded": "false",
          text: `Show the whole timeline (${body.timeline.length} events)`,
          onclick: () => {
            list.hidden = !list.hidden;
            toggle.setAttribute("aria-expanded", String(!list.hidden));
            toggle.textContent = list.hidden ? `Show the whole timeline (${body.timeline.length} events)` : "Hide the timeline";
          },
        });
        node.append(toggle, list);
      }
      if (body.abstained && body.related && body.related.length) {
        const list = el("ul");
        for (const p of body.related.slice(0, 3)) {
          list.append(el(
            "li", {},
            el("strong", { text: p.title }),
            ` — ${p.publisher}, ${formatDate(p.date, p.date_estimated)}${p.date_estimated ? " (estimated)" : ""}`,
            el("span", { class: "snippet", text: `“${p.text.replace(/\s+/g, " ").slice(0, 220).trim()}…”` }),
          ));
        }
        node.append(el("div", { class: "related" }, el("h3", { text: "Closest passages (they do not answer it)" }), list));
      }
      node.append(this.renderFeedback(m));
      return node;
    }

    renderText(container, text, citations) {
      container.textContent = "";
      const byId = new Map(citations.map((c) => [c.id, c]));
      for (const line of text.split("\n")) {
        const p = el("p");
        const parts = line.split(/\[(\d+)\]/);
        parts.forEach((part, i) => {
          if (i % 2 === 0) {
            if (part) p.append(part);
            return;
          }
          const c = byId.get(Number(part));
          if (!c) {
            p.append(`[${part}]`);
            return;
          }
          p.append(this.citeButton(c, "chat-citation"));
        });
        container.append(p);
      }
    }

    // One card per source: outlet, author, date (estimated badge), kind, and its quotes.
    renderViewpoints(viewpoints, citations) {
      const byId = new Map(citations.map((c) => [c.id, c]));
      const grid = el("div", { class: "viewpoints", "data-testid": "chat-viewpoints" });
      for (const v of viewpoints) {
        const opinion = /opinion|commentary|op-ed|editorial/i.test(v.kind || "");
        const card = el("section", {
          class: `vp${opinion ? " opinion" : ""}`, "data-testid": "chat-viewpoint", "aria-label": `${v.publisher}, ${formatDate(v.date, v.date_estimated)}`,
        },
          el("h4", {}, v.publisher, " ", el("span", { class: `kind${opinion ? " opinion" : ""}`, text: opinion ? "opinion" : (v.kind || "source") })),
          el("div", { class: "meta" },
            `${v.authors && v.authors.length ? `${v.authors.join(", ")} · ` : ""}${formatDate(v.date, v.date_estimated)}`,
            v.date_estimated ? " " : null,
            v.date_estimated ? el("span", { class: "est", text: "estimated date" }) : null));
        for (const id of v.citation_ids) {
          const c = byId.get(id);
          if (!c) continue;
          const quote = c.quote.replace(/\s+/g, " ").trim();
          card.append(el("p", {}, `“${quote.length > 260 ? `${quote.slice(0, 257).trim()}…` : quote}” `, this.citeButton(c, "chat-viewpoint-citation")));
        }
        grid.append(card);
      }
      return grid;
    }

    // Dated events, oldest first; each opens its quote.
    renderTimeline(events) {
      const list = el("ol", { class: "timeline", "data-testid": "chat-timeline" });
      for (const e of events) {
        const c = e.citation;
        const when = `${formatDate(e.date, false)}${e.date_estimated ? " (date inferred)" : ""}`;
        const text = e.text.replace(/\s+/g, " ").trim();
        const also = (e.also_reported_by || []).map((o) => o.publisher).join(", ");
        list.append(el("li", { "data-testid": "chat-timeline-event" },
          el("time", { datetime: e.date, text: when }),
          el("p", {}, `“${text.length > 240 ? `${text.slice(0, 237).trim()}…` : text}” `, this.citeButton(c, "chat-timeline-citation", "quote")),
          el("div", { class: "meta", text: `${c.publisher}, ${formatDate(c.date, c.date_estimated)}${also ? ` · also reported by ${also}` : ""}` })));
      }
      return list;
    }

    renderTimelineMessage(m) {
      const node = el("article", { class: "msg answer", "data-testid": "chat-timeline-answer", "aria-label": `Timeline: ${m.topic}` });
      const events = m.timeline.events || [];
      node.append(el("p", { class: "lead", text: events.length
        ? `Timeline of “${m.topic}”: ${events.length} dated events, oldest first (as of ${formatDate(m.timeline.as_of, false)}).`
        : `The documents date nothing on “${m.topic}”.` }));
      if (events.length) node.append(this.renderTimeline(events));
      return node;
    }

    // The "Timeline" control: dated events on the topic of the last question asked.
    async showTimeline() {
      const users = this.messages.filter((m) => m.role === "user");
      const topic = users.length ? users[users.length - 1].content : "";
      if (!topic) {
        this.setStatus("Ask a question first: the timeline follows its topic.");
        return;
      }
      if (this.busy) return;
      this.busy = true;
      this.setStatus("Building the timeline…");
      let message;
      try {
        const response = await fetch(`${this.endpoint}/timeline?q=${encodeURIComponent(topic)}&limit=20`);
        if (!response.ok) throw new ServiceError(`The timeline service had a problem (HTTP ${response.status}).`);
        message = { role: "assistant", topic, timeline: await response.json() };
        this.setStatus("Timeline ready.");
      } catch (err) {
        message = { role: "assistant", topic, error: err instanceof ServiceError ? err.message : "The timeline can't be reached right now." };
        this.setStatus("");
      } finally {
        this.busy = false;
      }
      this.messages.push(message);
      this.save();
      this.log.append(this.renderMessage(message));
      this.log.scrollTop = this.log.scrollHeight;
    }

    citeButton(c, testid, label) {
      const button = el("button", {
        type: "button", class: "cite", "data-testid": testid, "aria-expanded": "false",
        "aria-controls": this.quote.id, text: label || `[${c.id}]`,
        "aria-label": `Source ${c.id}: ${c.publisher}, ${formatDate(c.date, c.date_estimated)}. Show quote`,
      });
      button.addEventListener("click", () => this.toggleQuote(button, c));
      return button;
    }

    // The exact answer as a headline, with a marker that opens the quote it is copied from.
    // A paragraph (not an aria-label) so screen readers read its visible label and text.
    renderShortAnswer(short, citationId, citations) {
      const c = citations.find((x) => x.id === citationId);
      return el("p", { class: "short", "data-testid": "chat-short-answer" },
        el("span", { class: "short-label" }, "Short answer", el("span", { class: "sr-only", text: ": " })),
        el("strong", { class: "short-text", "data-testid": "chat-short-answer-text", text: short }),
        c ? this.citeButton(c, "chat-short-answer-citation") : null);
    }

    renderFeedback(m) {
      const note = el("span", { text: m.rating ? "Thanks for the feedback." : "" });
      const make = (rating, label) => el("button", {
        type: "button", "data-testid": `chat-feedback-${rating}`, "aria-label": label,
        "aria-pressed": String(m.rating === rating), disabled: Boolean(m.rating), html: ICONS[rating],
        onclick: () => this.sendFeedback(m, rating, group, note),
      });
      const group = el("div", { class: "feedback", role: "group", "aria-label": "Rate this answer" },
        make("up", "Helpful answer"), make("down", "Unhelpful answer"), note);
      return group;
    }

    renderError(m) {
      const node = el("div", { class: "msg error", role: "alert", "data-testid": "chat-error" },
        el("p", { text: m.error }),
        el("button", { type: "button", "data-testid": "chat-retry", text: "Retry", onclick: () => this.retry(m, node) }));
      return node;
    }

    setStatus(text) {
      this.status.textContent = text;
    }

    // -- citations ---------------------------------------------------------------------------
    toggleQuote(button, c) {
      if (this.quoteOwner === button) {
        this.closeQuote(true);
        return;
      }
      this.closeQuote(false);
      const when = formatDate(c.date, c.date_estimated);
      const authors = c.authors && c.authors.length ? ` · ${c.authors.join(", ")}` : "";
      const section = c.section && c.section !== "content" ? ` · from the ${c.section === "bio" ? "author note" : c.section}` : "";
      this.quote.textContent = "";
      this.quote.append(
        el("div", { class: "qhead" },
          el("span", { text: `Source [${c.id}] — verbatim quote` }),
          el("button", { type: "button", "aria-label": "Close quote", html: ICONS.close, onclick: () => this.closeQuote(true) })),
        el("blockquote", { text: c.quote }),
        el("div", { class: "src" },
          el("strong", { text: c.title }),
          `${c.publisher} · ${when}`,
          c.date_estimated ? " " : null,
          c.date_estimated ? el("span", { class: "est", text: "estimated date" }) : null,
          authors),
        el("div", {
          class: "where",
          text: `${c.doc_id}${c.page ? `, page ${c.page}` : ""}, characters ${c.start}–${c.end}${section}`,
        }),
      );
      // Right below the sentence that cites it.
      button.closest("p").after(this.quote);
      this.quote.hidden = false;
      button.setAttribute("aria-expanded", "true");
      this.quoteOwner = button;
      // Scroll the log only (scrollIntoView would scroll the host page too).
      const bottom = this.quote.offsetTop + this.quote.offsetHeight + 8;
      if (bottom > this.log.scrollTop + this.log.clientHeight) {
        this.log.scrollTop = Math.min(bottom - this.log.clientHeight, this.quote.offsetTop - 8 - 40);
      }
    }

    closeQuote(refocus) {
      const owner = this.quoteOwner;
      this.quote.hidden = true;
      this.quoteOwner = null;
      if (owner) {
        owner.setAttribute("aria-expanded", "false");
        if (refocus) owner.focus();
      }
    }

    // -- asking ------------------------------------------------------------------------------
    submit() {
      const question = this.input.value.trim();
      if (!question || this.busy) return;
      this.input.value = "";
      const user = { role: "user", content: question };
      this.messages.push(user);
      this.save();
      const intro = this.log.querySelector(".intro");
      if (intro) intro.remove();
      // Only new nodes are added: re-rendering the log would make screen readers re-read it.
      this.log.append(this.renderMessage(user));
      this.ask(user, null);
    }

    retry(errorMessage, errorNode) {
      const at = this.messages.indexOf(errorMessage);
      if (this.busy || at < 1) return;
      if (errorMessage.topic) { // a failed timeline: ask for it again
        this.messages.splice(at, 1);
        this.save();
        errorNode.remove();
        this.showTimeline();
        return;
      }
      this.messages.splice(at, 1);
      this.save();
      this.ask(this.messages[at - 1], errorNode);
    }

    async ask(user, replacing) {
      this.busy = true;
      this.sendButton.disabled = true;
      const node = el("article", { class: "msg answer", "data-testid": "chat-answer", "aria-busy": "true", "aria-label": "Answer" });
      const textNode = el("div", { class: "text" });
      node.append(textNode);
      if (replacing) replacing.replaceWith(node);
      else this.log.append(node);
      this.showExchange(user);
      this.setStatus("Searching the documents…");
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
      let body = null;
      let rewritten = null;
      let reply = null;
      try {
        let response;
        try {
          response = await fetch(`${this.endpoint}/ask/stream`, {
            method: "POST",
            headers: { "content-type": "application/json", accept: "text/event-stream" },
            body: JSON.stringify({ question: user.content, history: this.history(this.messages.indexOf(user)) }),
            signal: controller.signal,
          });
        } catch (err) {
          throw new ServiceError(
            controller.signal.aborted
              ? "The answer service did not respond in time."
              : "The answer service can't be reached right now (it may be down, or this site may not be allowed to use it).",
          );
        }
        if (!response.ok) {
          let detail = "";
          try {
            detail = (await response.json()).detail || "";
          } catch (_) { /* not JSON */ }
          throw new ServiceError(
            response.status < 500
              ? `The question was not accepted: ${detail || `HTTP ${response.status}`}`
              : `The answer service had a problem (HTTP ${response.status}).`,
          );
        }
        let text = "";
        for await (const ev of readEvents(response.body)) {
          const data = JSON.parse(ev.data);
          if (ev.event === "retrieval") {
            rewritten = data.rewritten_question;
            this.setStatus("Writing the answer…");
          } else if (ev.event === "delta") {
            text += data.text;
            textNode.textContent = text;
            this.showExchange(user);
          } else if (ev.event === "done") {
            body = data;
          } else if (ev.event === "error") {
            throw new ServiceError(`The answer service had a problem: ${data.detail}`);
          }
        }
        if (!body) throw new ServiceError("The answer was cut off. Please try again.");
      } catch (err) {
        const message = err instanceof ServiceError ? err.message : "Something went wrong while reading the answer.";
        reply = { role: "assistant", error: message };
        this.setStatus("");
      } finally {
        clearTimeout(timer);
        this.busy = false;
        this.sendButton.disabled = false;
      }
      if (!reply) {
        reply = { role: "assistant", body: this.compact(body), question: user.content };
        this.setStatus(body.abstained ? "The documents don't answer that." : "Answer ready.");
        const bubble = this.nodes.get(user);
        if (rewritten && !user.rewritten && bubble) bubble.after(this.renderRewritten(rewritten));
        user.rewritten = rewritten;
      }
      this.messages.splice(this.messages.indexOf(user) + 1, 0, reply);
      this.save();
      node.replaceWith(this.renderMessage(reply));
      this.showExchange(user);
    }

    compact(body) {
      // Enough to re-render after a reload; passages are dropped to keep sessionStorage small.
      return {
        answer: body.answer,
        short_answer: body.short_answer || null,
        short_answer_citation: body.short_answer_citation ?? null,
        abstained: body.abstained,
        citations: body.citations,
        viewpoints: body.viewpoints || null,
        timeline: body.timeline || null,
        related: (body.related || []).slice(0, 3).map((p) => ({
          title: p.title, publisher: p.publisher, date: p.date, date_estimated: p.date_estimated,
          text: p.text.slice(0, 400),
        })),
      };
    }

    async sendFeedback(m, rating, group, note) {
      if (!m.body || m.rating) return;
      const buttons = group.querySelectorAll("button");
      buttons.forEach((b) => { b.disabled = true; });
      try {
        const response = await fetch(`${this.endpoint}/feedback`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ question: m.question, answer: m.body.answer, rating }),
        });
        if (response.status !== 201) throw new Error(String(response.status));
        m.rating = rating;
        this.save();
        group.querySelector(`[data-testid="chat-feedback-${rating}"]`).setAttribute("aria-pressed", "true");
        note.textContent = "Thanks for the feedback.";
      } catch (_) {
        buttons.forEach((b) => { b.disabled = false; });
        note.textContent = "Couldn't send feedback; try again.";
      }
    }
  }

  window.customElements.define("peace-chat", PeaceChat);
})();
