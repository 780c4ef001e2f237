/* hwb-toolkit live workshop pages (participant and projector).
 *
 * The server renders each page whole; this script keeps it current from the live stream
 * (server-sent events: "snapshot", then "update" and "forming") and sends the forms as
 * JSON so the page never reloads. Every text anyone wrote goes in with textContent:
 * nothing contributed is ever read as HTML. Without this script the forms still work
 * (the server answers them with the page again).
 */
(function () {
  "use strict";

  var body = document.body;
  var mode = body.getAttribute("data-mode");
  var MAX_WALL_ITEMS = mode === "screen" ? 120 : 400;
  var state = { session: null, tallies: null, forming: null, wall: [], me: null };

  // --- small helpers ---------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function plural(count, word, many) {
    return count + " " + (count === 1 ? word : (many || word + "s"));
  }
  function find(selector, root) { return (root || document).querySelector(selector); }
  function findAll(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }
  function byData(name, value, root) {
    return findAll("[data-" + name + "]", root).filter(function (node) {
      return node.getAttribute("data-" + name) === value;
    })[0] || null;
  }
  function setStatus(text, kind) {
    var status = find("#status");
    if (!status) { return; }
    status.textContent = text || "";
    status.className = "status" + (kind ? " " + kind : "");
  }
  function meter(max, value) {
    var bar = el("meter");
    bar.min = 0; bar.max = Math.max(max, 1); bar.value = value;
    bar.setAttribute("aria-hidden", "true");
    return bar;
  }
  function pollWords(counts) {
    return counts.agree + " agree · " + counts.disagree + " disagree · " + counts.pass + " pass";
  }

  // --- the wall --------------------------------------------------------------------------
  function postitItem(post, fresh) {
    var item = el("li", "postit" + (post.waiting ? " waiting" : "") + (fresh ? " fresh" : ""));
    item.setAttribute("data-id", post.id);
    item.appendChild(el("p", "postit-text", post.text));
    item.appendChild(el("p", "postit-meta", (post.theme || "No theme") + " · " + post.who));
    if (post.waiting) {
      var note = el("p", "postit-note");
      note.appendChild(el("strong", null, "Waiting for the facilitator"));
      note.appendChild(document.createTextNode(": only you can see this until it is approved."));
      item.appendChild(note);
    }
    return item;
  }
  function trimWall(list) {
    while (list.children.length > MAX_WALL_ITEMS) { list.removeChild(list.lastChild); }
  }
  function drawWall() {
    var list = find("#wall");
    if (!list) { return; }
    var items = [];
    var waiting = (state.me && state.me.waiting) || [];
    waiting.slice().reverse().forEach(function (post) { items.push(postitItem(post, false)); });
    state.wall.slice().reverse().forEach(function (post) { items.push(postitItem(post, false)); });
    list.textContent = "";
    items.forEach(function (item) { list.appendChild(item); });
    trimWall(list);
  }
  function addToWall(posts) {
    var list = find("#wall");
    posts.forEach(function (post) {
      if (state.wall.some(function (known) { return known.id === post.id; })) { return; }
      state.wall.push(post);
      if (state.me) {  // the author's own post-it, approved: no longer waiting
        state.me.waiting = state.me.waiting.filter(function (own) { return own.id !== post.id; });
      }
      if (!list) { return; }
      var old = byData("id", post.id, list);  // the author's own post-it, now approved
      if (old) { list.removeChild(old); }
      list.insertBefore(postitItem(post, true), list.firstChild);
    });
    if (list) { trimWall(list); }
  }
  function removeFromWall(ids) {
    var list = find("#wall");
    state.wall = state.wall.filter(function (post) { return ids.indexOf(post.id) < 0; });
    ids.forEach(function (id) {
      var node = list && byData("id", id, list);
      if (node) { node.parentNode.removeChild(node); }
    });
  }
  function drawWallCount() {
    var count = find(".wall-count");
    if (!count || !state.tallies) { return; }
    var posts = plural(state.wall.length, "post-it");
    count.textContent = mode === "screen" ? "(" + posts + ")"
      : posts + " from " + plural(state.tallies.people, "person", "people") +
        " taking part. Newest first.";
    findAll(".people-count").forEach(function (node) {
      node.textContent = plural(state.tallies.people, "person", "people");
    });
  }

  // --- tallies, the participant's own dots and answers --------------------------------------
  function drawDotTallies() {
    var box = find("#dot-tallies");
    if (!box || !state.tallies) { return; }
    var most = Math.max.apply(null, [1].concat(state.tallies.dots.map(function (r) { return r.dots; })));
    var list = el("ul", "bars dot-tallies");
    state.tallies.dots.slice().sort(function (a, b) { return b.dots - a.dots; }).forEach(function (row) {
      var item = el("li");
      item.appendChild(el("span", "bar-label", row.label + ": " + plural(row.dots, "dot") +
        " from " + plural(row.people, "person", "people")));
      item.appendChild(meter(most, row.dots));
      list.appendChild(item);
    });
    box.textContent = "";
    box.appendChild(list);
  }
  function drawDots() {
    if (!state.tallies || !state.session) { return; }
    var open = state.session.open;
    var mine = (state.me && state.me.dots) || {};
    state.tallies.dots.forEach(function (row) {
      var item = byData("theme", row.theme, find(".dot-list") || document.createElement("div"));
      if (!item) { return; }
      find(".dot-total", item).textContent = plural(row.dots, "dot") + " in all";
      find(".dot-mine", item).textContent = "yours: " + (mine[row.theme] || 0);
      findAll("button", item).forEach(function (button) {
        button.disabled = !open || (button.value === "-1" && !mine[row.theme]);
      });
    });
    var left = find("#dots-left");
    if (left && state.me) {
      left.textContent = "";
      if (!open) { left.textContent = "This session is closed."; return; }
      left.appendChild(document.createTextNode("You have "));
      left.appendChild(el("strong", null, state.me.dots_left + " of " + state.session.dots_per_person));
      var cap = state.session.max_dots_per_item;
      left.appendChild(document.createTextNode(" dots left. " + (cap
        ? "Put up to " + cap + " on a theme that matters most to you."
        : "Put them on the themes that matter most to you.")));
    }
  }
  function drawPoll() {
    if (!state.tallies) { return; }
    var answers = (state.me && state.me.votes) || {};
    var open = state.session ? state.session.open : true;
    state.tallies.poll.forEach(function (counts) {
      findAll("[data-statement]").filter(function (node) {
        return node.getAttribute("data-statement") === counts.id;
      }).forEach(function (item) {
        var words = find(".statement-count", item);
        if (words) { words.textContent = pollWords(counts); }
        findAll("button", item).forEach(function (button) {
          button.setAttribute("aria-pressed", answers[counts.id] === button.value ? "true" : "false");
          button.disabled = !open;
        });
      });
    });
  }
  function drawSession() {
    if (!state.session) { return; }
    var open = state.session.open;
    findAll(".closed-banner").forEach(function (banner) { banner.hidden = open; });
    body.classList.toggle("closed", !open);
    var add = find(".postit-form button[type=submit]");
    if (add) { add.disabled = !open; }
  }

  // --- what is forming ----------------------------------------------------------------------
  function textList(texts) {
    var list = el("ul");
    texts.forEach(function (text) { list.appendChild(el("li", null, text)); });
    return list;
  }
  function drawForming() {
    var box = find("#forming");
    var f = state.forming;
    if (!box || !f) { return; }
    var parts = [el("h3", null, "Themes on the wall")];
    if (!f.themes.length) {
      parts.push(el("p", "muted", "No post-its on the wall yet."));
    } else {
      var biggest = Math.max.apply(null, f.themes.map(function (t) { return t.size; }));
      var list = el("ul", "bars");
      f.themes.forEach(function (theme) {
        var from = theme.sectors.map(function (s) { return s.sector + " " + s.count; }).join(", ");
        var item = el("li");
        item.appendChild(el("span", "bar-label", theme.label + ": " + plural(theme.size, "post-it") +
          (from ? " (" + from + ")" : "")));
        item.appendChild(meter(biggest, theme.size));
        list.appendChild(item);
      });
      parts.push(list);
    }
    parts.push(el("h3", null, "Agreement and division"));
    if (f.voters < f.min_voters) {
      parts.push(el("p", "muted", plural(f.voters, "person", "people") + " answered the statements " +
        "so far. Where people agree and where opinion is divided is worked out once " +
        f.min_voters + " people have answered."));
    } else {
      var agreeTitle = el("p"); agreeTitle.appendChild(el("strong", null, "Most people agree"));
      parts.push(agreeTitle);
      parts.push(f.agreed.length ? textList(f.agreed)
        : el("p", "muted", "No statement has broad agreement yet."));
      if (f.rejected.length) {
        var rejectTitle = el("p"); rejectTitle.appendChild(el("strong", null, "Most people disagree"));
        parts.push(rejectTitle, textList(f.rejected));
      }
      var divideTitle = el("p"); divideTitle.appendChild(el("strong", null, "Opinion is divided on"));
      parts.push(divideTitle);
      parts.push(f.divisive.length ? textList(f.divisive)
        : el("p", "muted", "No clear division between groups yet."));
    }
    if (f.missing.length && f.themes.length) {
      parts.push(el("p", "muted", "Not heard from yet: " + f.missing.join(", ") + "."));
    }
    box.textContent = "";
    parts.forEach(function (part) { box.appendChild(part); });
  }

  function drawAll() {
    drawSession(); drawWall(); drawWallCount(); drawDots(); drawPoll(); drawDotTallies(); drawForming();
  }

  // --- the live stream -------------------------------------------------------------------------
  function liveState(text, offline) {
    var line = find("#live-state");
    if (line) { line.textContent = text; }
    body.classList.toggle("offline", !!offline);
  }
  function connect() {
    var address = body.getAttribute("data-events");
    if (!address || !window.EventSource) { return; }
    var source = new EventSource(address);
    source.addEventListener("snapshot", function (event) {
      var data = JSON.parse(event.data);
      state.session = data.session; state.tallies = data.tallies;
      state.wall = data.wall; state.forming = data.forming || state.forming;
      if (data.me) { state.me = data.me; }
      drawAll();
      liveState("Live: this page updates by itself.", false);
    });
    source.addEventListener("update", function (event) {
      var data = JSON.parse(event.data);
      if (data.session) { state.session = data.session; drawSession(); }
      if (data.remove) { removeFromWall(data.remove); }
      if (data.add) { addToWall(data.add); }
      if (data.tallies) { state.tallies = data.tallies; }
      drawWallCount(); drawDots(); drawPoll(); drawDotTallies();
    });
    source.addEventListener("forming", function (event) {
      state.forming = JSON.parse(event.data).forming;
      drawForming();
    });
    source.onerror = function () {
      liveState("Connection lost: trying again…", true);
    };
  }

  // --- sending the forms ---------------------------------------------------------------------
  // The server answers a write with what changed for this participant; the page keeps
  // their own dots, answers and waiting post-its from the first snapshot onwards.
  function remember(answer) {
    var me = state.me || { dots: {}, votes: {}, waiting: [], dots_left: 0 };
    state.me = me;
    if (answer.dot) {
      if (answer.dot.mine > 0) { me.dots[answer.dot.theme] = answer.dot.mine; }
      else { delete me.dots[answer.dot.theme]; }
      var placed = 0;
      Object.keys(me.dots).forEach(function (theme) { placed += me.dots[theme]; });
      me.dots_left = Math.max(0, (state.session ? state.session.dots_per_person : 0) - placed);
    }
    if (answer.vote) { me.votes[answer.vote.statement] = answer.vote.answer; }
    if (answer.post) {
      var list = find("#wall");
      if (answer.post.waiting) { me.waiting.push(answer.post); }
      if (list && !byData("id", answer.post.id, list)) {
        list.insertBefore(postitItem(answer.post, true), list.firstChild);
      }
    }
  }

  var lastClicked = null;
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button") : null;
    if (button) { lastClicked = button; }
  });
  function send(form, submitter) {
    var fields = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.tagName !== "BUTTON") { fields[field.name] = field.value; }
    });
    if (submitter && submitter.name) { fields[submitter.name] = submitter.value; }
    if (submitter) { submitter.disabled = true; }
    setStatus("Sending…", "");
    return fetch(form.getAttribute("action"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-XSRFToken": body.getAttribute("data-xsrf") },
      body: JSON.stringify(fields)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) {
          setStatus(answer.error || "That did not work. Please try again.", "error");
          return;
        }
        setStatus(answer.message, "ok");
        remember(answer);
        if (answer.post) {
          var text = find("textarea", form);
          if (text) { text.value = ""; }
        }
        drawDots(); drawPoll();
      });
    }).catch(function () {
      setStatus("Could not reach the server. Check your connection and try again.", "error");
    }).then(function () {
      if (submitter) { submitter.disabled = false; drawDots(); drawPoll(); drawSession(); }
    });
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.getAttribute("data-kind") || !window.fetch) { return; }
    event.preventDefault();
    var submitter = event.submitter || (lastClicked && form.contains(lastClicked) ? lastClicked : null);
    send(form, submitter);
  });

  connect();
}());
