// The playground page: renders what the bot posted (Block Kit, mrkdwn) as a Slack client
// would, and turns what a person does into playground actions that the server signs and
// sends to the bot. Live updates: GET /playground/state?since=REV&wait=1 (long polling).
"use strict";

const EMOJI = {
  white_check_mark: "✅", hourglass_flowing_sand: "⏳", alarm_clock: "⏰", warning: "⚠️",
  x: "❌", no_entry_sign: "🚫", tada: "🎉", mag: "🔍", memo: "📝", outbox_tray: "📤",
  leftwards_arrow_with_hook: "↩️", heavy_minus_sign: "➖", eyes: "👀", "+1": "👍",
  rocket: "🚀", wrench: "🔧", heavy_check_mark: "✔️", information_source: "ℹ️",
};
const PICKER = ["white_check_mark", "eyes", "+1", "tada", "rocket", "x"];
const COLORS = ["#e8912d", "#2bac76", "#1264a3", "#e01e5a", "#7c3085"];

const state = {
  config: null,
  rev: 0,
  messages: new Map(), // id -> message
  homes: {},
  aws: null,
  user: null,
  view: null, // a channel id, or "home"
  thread: null, // id of the thread's parent message
  unread: {},
  people: new Map(),
};
const $ = (id) => document.getElementById(id);

// -- text -------------------------------------------------------------------------------

function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function decode(text) {
  return String(text).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function emojify(html) {
  return html.replace(/:([a-z0-9_+'-]+):/g, (whole, name) =>
    EMOJI[name] ? `<span class="emoji" title=":${name}:">${EMOJI[name]}</span>` : whole);
}

function nameOf(id) {
  if (id === state.config.bot.id) return state.config.bot.name;
  if (id === "USLACKBOT") return "Slackbot";
  const person = state.people.get(id);
  return person ? person.name : id;
}

function token(inner) {
  const [target, label] = inner.split("|", 2);
  if (target.startsWith("@")) {
    return `<span class="mention">@${esc(label || nameOf(target.slice(1)))}</span>`;
  }
  if (target.startsWith("#")) {
    const channel = state.config.channels.find((c) => c.id === target.slice(1));
    return `<span class="mention">#${esc(label || (channel ? channel.name : target.slice(1)))}</span>`;
  }
  if (target.startsWith("!date^")) {
    // <!date^seconds^format|fallback>: the moment in the reader's own time zone
    const when = new Date(Number(target.split("^")[1]) * 1000);
    const shown = Number.isNaN(when.getTime())
      ? decode(label || "")
      : when.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    return `<time title="${esc(decode(label || ""))}">${esc(shown)}</time>`;
  }
  if (target.startsWith("!")) {
    return `<span class="mention">@${esc(label || target.slice(1).split("^")[0])}</span>`;
  }
  if (/^https?:\/\//.test(target)) {
    const href = decode(target);
    return `<a href="${esc(href)}" target="_blank" rel="noopener">${esc(decode(label || target))}</a>`;
  }
  return esc(decode(`<${inner}>`));
}

// Slack's mrkdwn: *bold*, _italic_, ~strike~, `code`, ```pre```, > quote, <@U..>, <url|label>, :emoji:
function mrkdwn(source) {
  const slots = [];
  const keep = (html) => `\u0000${slots.push(html) - 1}\u0000`;
  let s = String(source || "");
  s = s.replace(/```([\s\S]*?)```/g, (_, code) => keep(`<pre>${esc(decode(code))}</pre>`));
  s = s.replace(/`([^`\n]+)`/g, (_, code) => keep(`<code>${esc(decode(code))}</code>`));
  s = s.replace(/<([^<>\n]+)>/g, (_, inner) => keep(token(inner)));
  s = esc(decode(s));
  // lines that start with ">" are one quote, as Slack draws them (\u0002 … \u0003)
  s = s.replace(/(?:^|\n)((?:&#62;[^\n]*(?:\n|$))+)/g, (_, block) => {
    const lines = block.replace(/\n$/, "").split("\n").map((l) => l.replace(/^&#62; ?/, ""));
    return `\u0002${lines.join("\n")}\u0003`;
  });
  const edge = "(?=$|[\\s.,:;!?)\\u0000\\u0002\\u0003])";
  s = s.replace(new RegExp(`(^|[\\s(\\u0000\\u0002])\\*([^*\\n]+)\\*${edge}`, "g"), "$1<b>$2</b>");
  s = s.replace(new RegExp(`(^|[\\s(\\u0000\\u0002])_([^_\\n]+)_${edge}`, "g"), "$1<i>$2</i>");
  s = s.replace(new RegExp(`(^|[\\s(\\u0000\\u0002])~([^~\\n]+)~${edge}`, "g"), "$1<s>$2</s>");
  s = emojify(s).replace(/\n/g, "<br>").replace(/\u0002/g, "<blockquote>").replace(/\u0003/g, "</blockquote>");
  return s.replace(/\u0000(\d+)\u0000/g, (_, i) => slots[Number(i)]);
}

function textObject(obj) {
  if (!obj) return "";
  return obj.type === "mrkdwn" ? mrkdwn(obj.text) : emojify(esc(obj.text || ""));
}

// -- Block Kit --------------------------------------------------------------------------

function el(tag, className, html) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (html !== undefined) node.innerHTML = html;
  return node;
}

function button(element, message, blockId) {
  const node = el("button", `btn ${element.style || ""}`.trim(), textObject(element.text));
  node.type = "button";
  node.addEventListener("click", () => {
    if (!message) return;
    act("click", {
      message: message.id,
      action_id: element.action_id,
      value: element.value || "",
      block_id: blockId || "",
    });
  });
  return node;
}

function renderBlocks(blocks, message) {
  const out = document.createDocumentFragment();
  for (const block of blocks) {
    if (block.type === "header") {
      out.append(el("div", "block-header", textObject(block.text)));
    } else if (block.type === "section") {
      const section = el("div", "block-section");
      if (block.text) section.append(el("div", "", textObject(block.text)));
      if (block.fields) {
        const fields = el("div", "fields");
        for (const field of block.fields) fields.append(el("div", "", textObject(field)));
        section.append(fields);
      }
      if (block.accessory && block.accessory.type === "button") {
        section.append(button(block.accessory, message, block.block_id));
      }
      out.append(section);
    } else if (block.type === "context") {
      const context = el("div", "block-context");
      for (const item of block.elements || []) {
        if (item.type === "mrkdwn" || item.type === "plain_text") {
          context.append(el("span", "", textObject(item)));
        }
      }
      out.append(context);
    } else if (block.type === "divider") {
      out.append(el("hr", "block-divider"));
    } else if (block.type === "actions") {
      const actions = el("div", "block-actions");
      for (const item of block.elements || []) {
        if (item.type === "button") actions.append(button(item, message, block.block_id));
      }
      out.append(actions);
    } else {
      out.append(el("div", "unsupported", `[a ${esc(block.type)} block, not shown here]`));
    }
  }
  return out;
}

// -- messages ---------------------------------------------------------------------------

function visible(message) {
  return !message.deleted && (!message.ephemeral_to || message.ephemeral_to === state.user);
}

function inChannelView(message) {
  return message.channel === state.view && (!message.thread_ts || message.broadcast)
    && visible(message);
}

function inThread(message) {
  if (!state.thread) return false;
  const parent = state.messages.get(state.thread);
  return parent && message.channel === parent.channel && message.thread_ts === parent.ts
    && visible(message);
}

function avatar(userId) {
  const isBot = userId === state.config.bot.id;
  const node = el("div", "avatar", esc(nameOf(userId).slice(0, 1).toUpperCase()));
  const index = [...userId].reduce((sum, c) => sum + c.charCodeAt(0), 0) % COLORS.length;
  node.style.background = isBot ? "#2bac76" : COLORS[index];
  return node;
}

function renderMessage(message, { inThreadPane = false } = {}) {
  const node = el("div", "message");
  node.dataset.id = message.id;
  if (message.ephemeral_to) node.classList.add("ephemeral");
  node.append(avatar(message.user));
  const body = el("div", "body");
  const meta = el("div", "meta");
  meta.append(el("span", "author", esc(nameOf(message.user))));
  if (message.user === state.config.bot.id) meta.append(el("span", "app-badge", "APP"));
  const time = el("time", "", esc(new Date(message.posted_at * 1000)
    .toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })));
  meta.append(time);
  body.append(meta);
  const content = el("div", "content");
  if (message.blocks && message.blocks.length) {
    content.append(renderBlocks(message.blocks, message));
  } else {
    content.innerHTML = mrkdwn(message.text);
  }
  for (const file of message.files || []) {
    const figure = el("figure", "file");
    const image = el("img");
    image.src = file.url;
    image.alt = file.title || file.name || "a file";
    figure.append(image, el("figcaption", "", esc(file.name || "")));
    content.append(figure);
  }
  body.append(content);
  if (message.ephemeral_to) body.append(el("div", "ephemeral-note", "Only visible to you"));
  const names = Object.keys(message.reactions || {});
  if (names.length) {
    const reactions = el("div", "reactions");
    for (const name of names) {
      const users = message.reactions[name];
      const pill = el("button", "reaction", `${EMOJI[name] || `:${esc(name)}:`} ${users.length}`);
      pill.type = "button";
      pill.title = `:${name}: ${users.map(nameOf).join(", ")}`;
      pill.setAttribute("aria-label", `${name} reaction by ${users.map(nameOf).join(", ")}`);
      if (users.includes(state.user)) pill.classList.add("mine");
      pill.addEventListener("click", () => act("react", { message: message.id, name }));
      reactions.append(pill);
    }
    body.append(reactions);
  }
  if (!inThreadPane && message.reply_count > 0 && !message.thread_ts) {
    const replies = el("button", "replies",
      `${message.reply_count} ${message.reply_count === 1 ? "reply" : "replies"}`);
    replies.type = "button";
    replies.addEventListener("click", () => openThread(message.id));
    body.append(replies);
  }
  node.append(body);
  if (!message.ephemeral_to) {
    const hover = el("div", "hover-actions");
    const react = el("button", "", "☺+");
    react.type = "button";
    react.setAttribute("aria-label", "Add reaction");
    react.addEventListener("click", (event) => openPicker(message, event.currentTarget));
    hover.append(react);
    if (!message.thread_ts && !inThreadPane) {
      const reply = el("button", "", "💬");
      reply.type = "button";
      reply.setAttribute("aria-label", "Open thread");
      reply.addEventListener("click", () => openThread(message.id));
      hover.append(reply);
    }
    node.append(hover);
  }
  return node;
}

function nearBottom(container) {
  return container.scrollHeight - container.scrollTop - container.clientHeight < 80;
}

// A pane the person left at its bottom stays there while what it shows grows: a new
// message is scrolled to, then its blocks finish laying out and it grows by a few hundred
// pixels, which must not push its buttons below the fold. Scrolling up unpins the pane.
const pinned = new WeakMap();
const growth = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const pane = entry.target.parentElement;
    if (pane && pinned.get(pane)) pane.scrollTop = pane.scrollHeight;
  }
});

function pinToBottom(pane) {
  pinned.set(pane, true);
  pane.addEventListener("scroll", () => pinned.set(pane, nearBottom(pane)), { passive: true });
}

function watchGrowth(node) {
  growth.observe(node);
  return node;
}

function upsertInChannel(message) {
  const container = $("messages");
  const existing = container.querySelector(`:scope > .message[data-id="${CSS.escape(message.id)}"]`);
  if (!inChannelView(message)) {
    if (existing) existing.remove();
    return;
  }
  const stick = nearBottom(container);
  const node = watchGrowth(renderMessage(message));
  if (existing) {
    growth.unobserve(existing);
    existing.replaceWith(node);
  } else {
    container.append(node); // messages arrive in order: new ones are the newest
  }
  if (stick && !existing) container.scrollTop = container.scrollHeight;
}

function renderChannel() {
  const container = $("messages");
  for (const node of container.children) growth.unobserve(node);
  container.replaceChildren();
  const shown = [...state.messages.values()].filter(inChannelView).sort((a, b) => a.seq - b.seq);
  const fragment = document.createDocumentFragment();
  for (const message of shown) fragment.append(watchGrowth(renderMessage(message)));
  container.append(fragment);
  container.scrollTop = container.scrollHeight;
  pinned.set(container, true);
}

function renderThread() {
  const pane = $("thread");
  const parent = state.thread && state.messages.get(state.thread);
  if (!parent) {
    pane.hidden = true;
    return;
  }
  pane.hidden = false;
  const channel = state.config.channels.find((c) => c.id === parent.channel);
  $("thread-channel").textContent = channel ? `#${channel.name}` : "";
  const container = $("thread-messages");
  const stick = nearBottom(container);
  container.replaceChildren(renderMessage(parent, { inThreadPane: true }));
  const replies = [...state.messages.values()].filter(inThread).sort((a, b) => a.seq - b.seq);
  container.append(el("div", "thread-divider",
    `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`));
  for (const reply of replies) container.append(renderMessage(reply, { inThreadPane: true }));
  if (stick) container.scrollTop = container.scrollHeight;
}

function openThread(id) {
  state.thread = id;
  renderThread();
}

function renderHome() {
  const home = $("home");
  const view = state.homes[state.user];
  home.replaceChildren();
  if (!view || !view.blocks) {
    home.append(el("p", "", "Nothing published here yet: the bot publishes App Home when it is opened."));
    return;
  }
  home.append(renderBlocks(view.blocks, null));
}

// -- navigation ---------------------------------------------------------------------------

function renderNav() {
  const list = $("channels");
  list.replaceChildren();
  for (const channel of state.config.channels) {
    const item = el("li");
    const link = el("button", "nav-item", `# ${esc(channel.name)}`);
    link.type = "button";
    link.dataset.target = channel.id;
    if (state.view === channel.id) link.classList.add("active");
    const count = state.unread[channel.id] || 0;
    if (count) {
      link.classList.add("unread");
      link.append(el("span", "badge", String(count)));
    }
    link.addEventListener("click", () => show(channel.id));
    item.append(link);
    list.append(item);
  }
  $("home-tab").classList.toggle("active", state.view === "home");
}

function show(view) {
  state.view = view;
  state.unread[view] = 0;
  const isHome = view === "home";
  $("messages").hidden = isHome;
  $("composer").hidden = isHome;
  $("home").hidden = !isHome;
  if (isHome) {
    $("channel-title").textContent = "skillbot";
    $("channel-topic").textContent = "App Home";
    renderHome();
    act("home", {});
  } else {
    const channel = state.config.channels.find((c) => c.id === view);
    $("channel-title").textContent = `# ${channel.name}`;
    $("channel-topic").textContent = view === state.config.skill_channel
      ? `the ${state.config.skill} skill's channel: try /skill help`
      : "announcements";
    $("composer-input").placeholder = `Message #${channel.name}  (try /skill help)`;
    renderChannel();
  }
  renderNav();
}

// -- picker ---------------------------------------------------------------------------------

function openPicker(message, anchor) {
  const picker = $("picker");
  picker.replaceChildren();
  for (const name of PICKER) {
    const choice = el("button", "emoji", EMOJI[name]);
    choice.type = "button";
    choice.title = `:${name}:`;
    choice.setAttribute("aria-label", name);
    choice.addEventListener("click", () => {
      picker.hidden = true;
      act("react", { message: message.id, name });
    });
    picker.append(choice);
  }
  const box = anchor.getBoundingClientRect();
  picker.style.top = `${Math.min(box.bottom + 4, window.innerHeight - 60)}px`;
  picker.style.left = `${Math.max(box.right - 260, 8)}px`;
  picker.hidden = false;
}

document.addEventListener("click", (event) => {
  const picker = $("picker");
  if (!picker.hidden && !picker.contains(event.target) && !event.target.closest(".hover-actions")) {
    picker.hidden = true;
  }
});

// -- log and AWS ----------------------------------------------------------------------------

function addLog(entries) {
  const list = $("log");
  const stick = nearBottom(list);
  for (const entry of entries) {
    const at = new Date(entry.at * 1000).toLocaleTimeString();
    const item = el("li", entry.level, `${esc(at)} ${esc(entry.text)}`);
    list.append(item);
  }
  while (list.children.length > 300) list.firstChild.remove();
  if (stick) list.scrollTop = list.scrollHeight;
}

function renderAws() {
  const box = $("aws");
  box.replaceChildren();
  const aws = state.aws;
  if (!aws) return;
  if (aws.error) {
    box.append(el("div", "note", esc(aws.error)));
    return;
  }
  const table = el("table");
  for (const [alias, version] of Object.entries(aws.aliases).sort()) {
    const row = el("tr");
    row.dataset.alias = alias;
    row.append(el("td", aws.live === alias ? "live" : "", esc(alias)));
    row.append(el("td", "", `v${esc(version)}`));
    const role = aws.live === alias ? "live" : aws.live ? "candidate" : "";
    row.append(el("td", role === "live" ? "live" : "", role));
    table.append(row);
  }
  box.append(el("div", "note", esc(aws.function)));
  box.append(table);
  if (!aws.live) box.append(el("div", "note", "no role tag on the function yet (doctor offers to record it)"));
  box.append(el("div", "note", `versions ${esc(aws.versions.join(", "))}`));
  box.append(el("div", "note", `$LATEST code ${esc(aws.latest_sha)}…`));
  box.append(el("div", "note", `endpoint ${esc(state.config.aws_endpoint)}`));
}

// -- talking to the playground ---------------------------------------------------------------

async function act(action, data) {
  try {
    const response = await fetch(`/playground/${action}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: state.user, ...data }),
    });
    const answer = await response.json();
    if (!answer.ok) addLog([{ at: Date.now() / 1000, level: "error", text: `${action}: ${answer.error}` }]);
  } catch (err) {
    addLog([{ at: Date.now() / 1000, level: "error", text: `${action}: ${err}` }]);
  }
}

function apply(snapshot) {
  if (snapshot.reset) state.messages.clear();
  let threadChanged = false;
  for (const message of snapshot.messages) {
    const known = state.messages.has(message.id);
    state.messages.set(message.id, message);
    if (!snapshot.reset) upsertInChannel(message);
    if (state.thread && (message.id === state.thread || inThread(message))) threadChanged = true;
    if (!known && !snapshot.reset && message.channel !== state.view && visible(message)
        && !message.thread_ts && state.config.channels.some((c) => c.id === message.channel)) {
      state.unread[message.channel] = (state.unread[message.channel] || 0) + 1;
      renderNav();
    }
  }
  if (snapshot.reset && state.view !== "home") renderChannel();
  if (threadChanged || snapshot.reset) renderThread();
  if (snapshot.homes) {
    state.homes = snapshot.homes;
    if (state.view === "home") renderHome();
  }
  if (snapshot.aws) {
    state.aws = snapshot.aws;
    renderAws();
  }
  if (snapshot.log.length) addLog(snapshot.log);
  state.rev = snapshot.rev;
}

async function poll() {
  for (;;) {
    try {
      const response = await fetch(`/playground/state?since=${state.rev}&wait=1`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      apply(await response.json());
      $("connection").textContent = "";
      $("connection").classList.remove("down");
    } catch (err) {
      $("connection").textContent = "the demo is not answering (stopped?)";
      $("connection").classList.add("down");
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

async function start() {
  state.config = await (await fetch("/playground/config")).json();
  for (const person of state.config.people) state.people.set(person.id, person);
  const select = $("user");
  for (const person of state.config.people) {
    const option = el("option", "", `${esc(person.name)} (${esc(person.role)})`);
    option.value = person.id;
    select.append(option);
  }
  state.user = state.config.people[0].id;
  select.addEventListener("change", () => {
    state.user = select.value;
    show(state.view); // ephemeral messages belong to the person who sees them
    renderThread();
  });
  $("alexa-tools").hidden = !state.config.alexa;
  $("home-tab").addEventListener("click", () => show("home"));
  $("deploy").addEventListener("click", () => act("deploy", {}));
  $("alexa-pass").addEventListener("click", () => act("alexa", { passed: true }));
  $("alexa-fail").addEventListener("click", () => act("alexa", { passed: false }));
  $("thread-close").addEventListener("click", () => { state.thread = null; renderThread(); });
  $("log-toggle").addEventListener("click", () => {
    const pane = $("log-pane");
    pane.classList.toggle("collapsed");
    $("log-toggle").textContent = pane.classList.contains("collapsed") ? "Show" : "Hide";
  });
  const input = $("composer-input");
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    act("command", { channel: state.view, text });
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  pinToBottom($("messages"));
  show(state.config.skill_channel);
  poll();
}

start();
