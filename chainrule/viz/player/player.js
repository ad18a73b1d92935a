/* chainrule's animation player: a Graphviz SVG of a computation graph, filled in frame by frame.
 *
 *   var player = ChainrulePlayer.mount(element, data);
 *   player.goto(3); player.play(); player.pause(); player.frame; player.destroy();
 *
 * `data` is chainrule.viz.animate.animation_data(root) plus "svg": the picture Graphviz draws
 * from data.dot (a string, or an <svg> element). The frame schema is documented in
 * chainrule/viz/animate.py. Plain script, no modules, no dependencies, nothing from the network.
 */
(function () {
  "use strict";

  var SPEEDS = [0.5, 1, 2, 4];
  var BASE_MS = 1400;
  var MARKS = ["crp-focus", "crp-hot", "crp-target", "crp-accum", "crp-fwd", "crp-bwd"];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* The controls' icons, drawn inline: a glyph like U+23F8 or U+25B6 depends on the fonts of
   * the machine (a box on many a plain Linux desktop, a coloured emoji on others). */
  var ICONS = {
    prev: '<path d="M10 3.5 5.5 8l4.5 4.5" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/>',
    next: '<path d="M6 3.5 10.5 8 6 12.5" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/>',
    play: '<path d="M4.5 2.5v11l9-5.5z" fill="currentColor"/>',
    pause: '<rect x="3.5" y="2.5" width="3" height="11" rx="0.6" fill="currentColor"/><rect x="9.5" y="2.5" width="3" height="11" rx="0.6" fill="currentColor"/>'
  };

  /* A button's content: its icon, then its word (the icon first, except for "Next"). */
  function label(b, icon, text, after) {
    var svg = '<svg class="crp-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">' + ICONS[icon] + "</svg>";
    var word = "<span>" + text + "</span>";
    b.innerHTML = after ? word + svg : svg + word;
  }

  function button(testid, icon, text, title, after) {
    var b = el("button", { type: "button", "class": "crp-btn", "data-testid": testid, title: title });
    label(b, icon, text, after);
    b.setAttribute("aria-label", title);
    return b;
  }

  /* The SVG's node and edge groups by id, looked up inside this player only (several players
   * on one page share ids such as "v0"). */
  function index(svg) {
    var groups = {};
    var found = svg.querySelectorAll("g.node, g.edge");
    for (var i = 0; i < found.length; i++) groups[found[i].getAttribute("id")] = found[i];
    return groups;
  }

  /* What the frames alone tell, so that mount(element, {svg, frames}) is enough: every box's
   * texts before frame 0 (data.initial where given, else "data \u2026" for each field a frame
   * sets later), the forward frame at which each node, oval and arrow appears, and how many
   * frames each phase has. */
  function derive(frames, given) {
    var initial = {};
    var appears = {};
    var counts = { forward: 0, backward: 0 };  // a field no frame sets keeps what the SVG shows
    Object.keys(given || {}).forEach(function (k) { initial[k] = given[k].slice(); });
    frames.forEach(function (frame, i) {
      counts[frame.phase] = (counts[frame.phase] || 0) + 1;
      (frame.set || []).forEach(function (s) {
        if (given && given[s[0]]) return;
        var fields = initial[s[0]] || (initial[s[0]] = []);
        if (fields[s[1]] === undefined) fields[s[1]] = String(s[2]).split(" ")[0] + " \u2026";
      });
      if (frame.phase !== "forward") return;
      [frame.focus, frame.op].concat(frame.edges || []).forEach(function (id) {
        if (id && appears[id] === undefined) appears[id] = i;
      });
    });
    return { initial: initial, appears: appears, counts: counts };
  }

  /* Hover texts: a box's name, an oval's op, an arrow's ends (where data names them). */
  function tooltips(groups, data) {
    var names = {};
    var results = {};
    (data.nodes || []).forEach(function (n) { names[n.id] = n.name; });
    (data.ops || []).forEach(function (o) { results[o.id] = o.result; });
    function called(id) { return names[id] || "the op computing " + (names[results[id]] || id); }
    function tip(id, text) {
      var title = groups[id] && groups[id].querySelector("title");
      if (title) title.textContent = text;
    }
    (data.nodes || []).forEach(function (n) { tip(n.id, n.name); });
    (data.ops || []).forEach(function (o) { tip(o.id, called(o.id)); });
    (data.edges || []).forEach(function (e) { tip(e.id, called(e.tail) + " \u2192 " + called(e.head)); });
  }

  function mount(container, data) {
    if (!container || !data || !data.frames) throw new Error("ChainrulePlayer.mount(element, data): data.frames is missing");
    if (!data.svg) throw new Error("ChainrulePlayer.mount: data.svg is missing (lay out data.dot with Graphviz first)");
    var frames = data.frames;
    var last = frames.length - 1;
    var current = -1;
    var timer = null;
    var speed = 1;

    container.textContent = "";
    var root = el("div", { "class": "crp", tabindex: "0", role: "group", "aria-label": "backpropagation player" });
    var head = el("div", { "class": "crp-head" });
    var title = el("div", { "class": "crp-title" }, data.title || "");
    var phase = el("span", { "class": "crp-phase", "data-testid": "phase" });
    head.appendChild(title);
    head.appendChild(phase);
    var stage = el("div", { "class": "crp-stage" });
    if (typeof data.svg === "string") stage.innerHTML = data.svg;
    else stage.appendChild(data.svg);
    var svg = stage.querySelector("svg");
    if (!svg) throw new Error("ChainrulePlayer.mount: data.svg holds no <svg> element");
    var detail = el("div", { "class": "crp-detail", "data-testid": "detail" });
    var narration = el("div", { "class": "crp-narration", "data-testid": "narration", "aria-live": "polite" });
    var controls = el("div", { "class": "crp-controls" });
    var prev = button("prev", "prev", "Prev", "previous step (left arrow)");
    var play = button("play", "play", "Play", "play / pause (space)");
    var next = button("next", "next", "Next", "next step (right arrow)", true);
    var scrubber = el("input", {
      type: "range", min: "0", max: String(Math.max(last, 0)), step: "1", value: "0",
      "class": "crp-scrubber", "data-testid": "scrubber", "aria-label": "frame"
    });
    var counter = el("span", { "class": "crp-counter", "data-testid": "counter" });
    var speedBox = el("label", { "class": "crp-speed" }, "speed ");
    var speedSelect = el("select", { "data-testid": "speed", "aria-label": "speed" });
    SPEEDS.forEach(function (s) {
      var option = el("option", { value: String(s) }, s + "\u00D7");
      if (s === 1) option.selected = true;
      speedSelect.appendChild(option);
    });
    speedBox.appendChild(speedSelect);
    [prev, play, next, scrubber, counter, speedBox].forEach(function (c) { controls.appendChild(c); });
    var legend = el("div", { "class": "crp-legend" });
    legend.innerHTML =
      '<span class="crp-key crp-key-fwd"></span>forward: a value is computed ' +
      '<span class="crp-key crp-key-bwd"></span>backward: a gradient is passed back ' +
      '<span class="crp-key crp-key-acc"></span>a gradient adds up (+=) ' +
      '<span class="crp-hint">\u2190 \u2192 step, space plays</span>';
    [head, stage, detail, narration, controls, legend].forEach(function (c) { root.appendChild(c); });
    container.appendChild(root);

    var groups = index(svg);
    var derived = derive(frames, data.initial);
    var initial = derived.initial;
    var appears = derived.appears;
    var counts = derived.counts;
    var boxes = {};   // id -> the <text> elements of its fields (a box's last texts, in order)
    Object.keys(initial).forEach(function (id) {
      var g = groups[id];
      if (!g) return;
      var all = g.querySelectorAll("text");
      var count = initial[id].length;
      var texts = [];
      for (var i = Math.max(all.length - count, 0); i < all.length; i++) texts.push(all[i]);
      boxes[id] = texts;
    });
    tooltips(groups, data);

    /* The boxes' texts at frame i: the initial texts with the `set`s of frames 0..i. */
    function textsAt(i) {
      var state = {};
      Object.keys(initial).forEach(function (k) { state[k] = initial[k].slice(); });
      for (var f = 0; f <= i; f++) {
        var sets = frames[f].set || [];
        for (var s = 0; s < sets.length; s++) state[sets[s][0]][sets[s][1]] = sets[s][2];
      }
      return state;
    }

    function mark(id, classes) {
      var g = groups[id];
      if (!g) return;
      classes.forEach(function (c) { g.classList.add(c); });
    }

    function show(i) {
      var frame = frames[i];
      var state = textsAt(i);
      Object.keys(boxes).forEach(function (id) {
        var texts = boxes[id];
        var want = state[id] || [];
        for (var k = 0; k < texts.length; k++) {
          if (want[k] !== undefined && texts[k].textContent !== want[k]) texts[k].textContent = want[k];
          texts[k].classList.remove("crp-changed");
        }
      });
      Object.keys(groups).forEach(function (id) {
        var cl = groups[id].classList;
        MARKS.forEach(function (c) { cl.remove(c); });
      });
      Object.keys(appears).forEach(function (id) {
        if (groups[id]) groups[id].classList.toggle("crp-pending", appears[id] > i);
      });
      var way = frame.phase === "backward" ? "crp-bwd" : "crp-fwd";
      if (frame.focus) mark(frame.focus, ["crp-focus", way]);
      if (frame.op) mark(frame.op, ["crp-focus", way]);
      (frame.edges || []).forEach(function (e) { mark(e, ["crp-hot", way]); });
      (frame.targets || []).forEach(function (t) { mark(t, frame.accumulate ? ["crp-target", "crp-accum", way] : ["crp-target", way]); });
      (frame.set || []).forEach(function (s) {
        var texts = boxes[s[0]];
        if (texts && texts[s[1]]) texts[s[1]].classList.add("crp-changed");
      });
      narration.textContent = frame.text;
      narration.className = "crp-narration " + way + (frame.accumulate ? " crp-accum" : "");
      detail.textContent = frame.detail || "";
      phase.textContent = frame.phase + " " + frame.index + " / " + counts[frame.phase];
      phase.className = "crp-phase " + way;
      scrubber.value = String(i);
      counter.textContent = "frame " + (i + 1) + " of " + frames.length;
      prev.disabled = i <= 0;
      next.disabled = i >= last;
    }

    function goto(i) {
      if (!frames.length) return;
      i = Math.max(0, Math.min(last, Math.round(Number(i)) || 0));
      current = i;
      show(i);
    }

    function tick() {
      if (current >= last) { pause(); return; }
      goto(current + 1);
      if (current >= last) pause();
      else timer = setTimeout(tick, BASE_MS / speed);
    }

    function playing() { return timer !== null; }

    function startPlay() {
      if (playing() || !frames.length) return;
      if (current >= last) goto(0);
      label(play, "pause", "Pause");
      play.setAttribute("aria-pressed", "true");
      root.classList.add("crp-playing");
      timer = setTimeout(tick, BASE_MS / speed);
    }

    function pause() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      label(play, "play", "Play");
      play.setAttribute("aria-pressed", "false");
      root.classList.remove("crp-playing");
    }

    function toggle() { if (playing()) pause(); else startPlay(); }

    function onKey(event) {
      var t = event.target;
      if (t === scrubber || t === speedSelect) return;  // they handle their own keys
      var key = event.key;
      if (key === "ArrowRight") { pause(); goto(current + 1); }
      else if (key === "ArrowLeft") { pause(); goto(current - 1); }
      else if (key === "Home") { pause(); goto(0); }
      else if (key === "End") { pause(); goto(last); }
      else if ((key === " " || key === "k") && t.tagName !== "BUTTON") toggle();
      else return;
      event.preventDefault();
    }

    var listeners = [
      [prev, "click", function () { pause(); goto(current - 1); }],
      [next, "click", function () { pause(); goto(current + 1); }],
      [play, "click", toggle],
      [scrubber, "input", function () { pause(); goto(scrubber.value); }],
      [speedSelect, "change", function () { speed = Number(speedSelect.value) || 1; }],
      [root, "keydown", onKey]
    ];
    listeners.forEach(function (l) { l[0].addEventListener(l[1], l[2]); });
    goto(0);

    var api = {
      goto: function (i) { pause(); goto(i); return api; },
      play: function () { startPlay(); return api; },
      pause: function () { pause(); return api; },
      next: function () { pause(); goto(current + 1); return api; },
      prev: function () { pause(); goto(current - 1); return api; },
      destroy: function () {
        pause();
        listeners.forEach(function (l) { l[0].removeEventListener(l[1], l[2]); });
        if (root.parentNode) root.parentNode.removeChild(root);
      },
      element: root
    };
    Object.defineProperty(api, "frame", { get: function () { return current; }, enumerable: true });
    Object.defineProperty(api, "length", { get: function () { return frames.length; }, enumerable: true });
    Object.defineProperty(api, "playing", { get: playing, enumerable: true });
    return api;
  }

  window.ChainrulePlayer = { mount: mount, version: 1 };
})();
