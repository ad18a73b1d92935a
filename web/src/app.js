// The playground page: tabs, controls, pictures. Every number it shows is computed by chainrule's
// Python in the worker (worker.js); this file only asks, draws and keeps the URL up to date.

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const byTest = (id, root = document) => $(`[data-testid="${id}"]`, root);

// -- the worker ------------------------------------------------------------------------------------

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const pending = new Map();
let nextId = 1;

worker.onmessage = ({ data }) => {
  const entry = pending.get(data.id);
  if (!entry) return;
  pending.delete(data.id);
  if (data.ok) entry.resolve(data.result);
  else entry.reject(new Error(data.error || "the worker failed"));
};
worker.onerror = (event) => {
  event.preventDefault();
  setStatus(`The Python worker failed: ${event.message || "see the browser console"}`, "bad");
};

function call(cmd, args = {}) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, cmd, args });
  });
}

// -- small helpers ---------------------------------------------------------------------------------

function setStatus(text, kind = "") {
  const el = byTest("status");
  el.textContent = text;
  el.className = `status ${kind}`;
}

function fmt(x, digits = 4) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (Math.abs(x) >= 1e6) return Number(x).toExponential(2); // not 40 digits of a diverged loss
  return Number(x).toFixed(digits);
}

// Icons for the play controls, drawn inline: a glyph such as U+23F8 is missing from the fonts
// of many a plain Linux desktop, and would show as a box.
const ICONS = {
  play: '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><path d="M4.5 2.5v11l9-5.5z" fill="currentColor"/></svg>',
  pause:
    '<svg class="icon" viewBox="0 0 16 16" aria-hidden="true"><rect x="3.5" y="2.5" width="3" height="11" rx="0.6" fill="currentColor"/>' +
    '<rect x="9.5" y="2.5" width="3" height="11" rx="0.6" fill="currentColor"/></svg>',
};

function percent(x) {
  return x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)}%`;
}

const state = new URLSearchParams(location.hash.slice(1));

function saveState() {
  history.replaceState(null, "", `#${state.toString()}`);
}

// -- tabs ------------------------------------------------------------------------------------------

const TABS = ["expression", "neuron", "train"];

function showTab(name, remember = true) {
  if (!TABS.includes(name)) name = "expression";
  for (const tab of TABS) {
    $(`#${tab}`).hidden = tab !== name;
    byTest(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
  }
  if (remember) {
    state.set("tab", name);
    saveState();
  }
  if (name === "neuron") Neuron.refresh();
  if (name === "train") {
    Train.ensure();
    Train.drawEdges(true); // laid out only now that the tab shows
  }
}

for (const tab of TABS) byTest(`tab-${tab}`).addEventListener("click", () => showTab(tab));

// -- the player (chainrule.animate's, from the package) ---------------------------------------------

let playerReady = Promise.resolve(false);

function loadPlayer() {
  return new Promise((resolve) => {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = "player/player.css";
    document.head.append(css);
    const script = document.createElement("script");
    script.src = "player/player.js";
    script.onload = () => resolve(Boolean(window.ChainrulePlayer));
    script.onerror = () => resolve(false);
    document.head.append(script);
  });
}

// -- the Expression tab -------------------------------------------------------------------------------

const LECTURE = "a = 2; b = -3; c = 10; f = -2; e = a*b; d = e + c; L = d*f";

const Expression = {
  editor: byTest("expression"),
  runButton: byTest("run"),
  graph: byTest("graph"),
  error: byTest("error"),
  staleNote: byTest("graph-stale"),
  tools: byTest("graph-tools"),
  player: null,
  frames: [],
  firstBackward: 0,
  busy: false,
  zoom: "fit", // "fit" (the page's width) or a scale of the graph's own size
  drag: null,

  init() {
    this.editor.value = state.get("expr") ?? LECTURE;
    this.runButton.addEventListener("click", () => this.run());
    this.editor.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        this.run();
      }
    });
    for (const link of $$("[data-example]")) {
      link.addEventListener("click", (e) => {
        e.preventDefault();
        this.editor.value = link.dataset.example;
        this.run();
      });
    }
    byTest("zoom-in").addEventListener("click", () => this.zoomBy(1.25));
    byTest("zoom-out").addEventListener("click", () => this.zoomBy(0.8));
    byTest("zoom-fit").addEventListener("click", () => this.setZoom("fit"));
    byTest("zoom-actual").addEventListener("click", () => this.setZoom(1));
    // Pan: drag the picture (its stage scrolls); zoom: Ctrl (or Cmd) + wheel, about the pointer.
    this.graph.addEventListener("pointerdown", (e) => this.startDrag(e));
    this.graph.addEventListener("pointermove", (e) => this.moveDrag(e));
    for (const end of ["pointerup", "pointercancel"]) {
      this.graph.addEventListener(end, () => this.endDrag());
    }
    this.graph.addEventListener(
      "wheel",
      (e) => {
        if (!(e.ctrlKey || e.metaKey) || !this.svg()) return;
        e.preventDefault();
        this.zoomBy(e.deltaY < 0 ? 1.25 : 0.8, e);
      },
      { passive: false },
    );
  },

  async run(source = this.editor.value) {
    if (this.busy) return;
    this.busy = true;
    this.runButton.disabled = true;
    state.set("expr", source);
    saveState();
    try {
      const out = await call("expression", { source });
      if (!out.ok) {
        this.showError(out.error, source);
        return;
      }
      this.error.hidden = true;
      this.editor.classList.remove("invalid");
      await this.show(out);
    } catch (err) {
      this.showError({ message: `internal error: ${err.message}` }, source);
    } finally {
      this.busy = false;
      this.runButton.disabled = false;
    }
  },

  showError(error, source) {
    this.error.hidden = false;
    this.error.replaceChildren();
    const message = document.createElement("p");
    message.textContent = error.message;
    this.error.append(message);
    this.editor.classList.add("invalid");
    this.markStale();
    if (error.line && error.column) {
      const line = source.split("\n")[error.line - 1] ?? "";
      const pre = document.createElement("pre");
      pre.dataset.testid = "error-caret";
      pre.textContent = `${line}\n${" ".repeat(Math.max(error.column - 1, 0))}^`;
      this.error.append(pre);
      // put the cursor where the problem is
      const lines = source.split("\n");
      let offset = 0;
      for (let i = 0; i < error.line - 1; i++) offset += lines[i].length + 1;
      offset += error.column - 1;
      this.editor.setSelectionRange(offset, offset);
    }
  },

  // The graph on screen belongs to the last program that ran: after an error it is not the
  // answer to the text above it, so it is dimmed and said to be stale.
  markStale() {
    if (!this.player) return;
    this.player.pause();
    this.graph.classList.add("stale");
    this.graph.setAttribute("aria-disabled", "true");
    this.staleNote.hidden = false;
  },

  async show(out) {
    if (this.player) this.player.destroy();
    this.player = null;
    this.graph.replaceChildren();
    this.graph.classList.remove("stale");
    this.graph.removeAttribute("aria-disabled");
    this.staleNote.hidden = true;
    this.tools.hidden = true;
    if (!(await playerReady)) {
      this.showError({ message: "the animation player (player/player.js) did not load" }, "");
      return;
    }
    // chainrule.animate's player: the forward frames, then one chain-rule step per frame;
    // its Prev / Play / Next are the page's one step control.
    const data = { ...out.animation, svg: out.svg };
    this.player = window.ChainrulePlayer.mount(this.graph, data);
    this.frames = data.frames;
    this.firstBackward = Math.max(
      0,
      this.frames.findIndex((f) => f.phase === "backward"),
    );
    this.player.goto(Math.max(0, this.firstBackward - 1)); // every value in, no grad yet
    this.tools.hidden = false;
    this.setZoom("fit");
  },

  // -- zoom and pan

  svg() {
    return $(".crp-stage svg", this.graph);
  },

  stage() {
    return $(".crp-stage", this.graph);
  },

  // The graph's own width in CSS pixels (Graphviz lays out in points, 72 to the inch).
  naturalWidth(svg) {
    const box = svg.viewBox && svg.viewBox.baseVal;
    return box && box.width ? (box.width * 96) / 72 : svg.getBoundingClientRect().width;
  },

  scale() {
    const svg = this.svg();
    if (!svg) return 1;
    return this.zoom === "fit" ? svg.getBoundingClientRect().width / this.naturalWidth(svg) : this.zoom;
  },

  setZoom(zoom) {
    const svg = this.svg();
    if (!svg) return;
    if (zoom === "fit") {
      this.zoom = "fit";
      svg.style.width = "";
      svg.style.maxWidth = "";
      byTest("zoom-level").textContent = "fit";
    } else {
      this.zoom = Math.min(4, Math.max(0.1, zoom));
      svg.style.maxWidth = "none";
      svg.style.width = `${this.naturalWidth(svg) * this.zoom}px`;
      byTest("zoom-level").textContent = `${Math.round(this.zoom * 100)}%`;
    }
    this.graph.classList.toggle("zoomed", this.zoom !== "fit");
  },

  // Zoom by `factor`, keeping the point under the pointer (or the stage's centre) in place.
  zoomBy(factor, event = null) {
    const stage = this.stage();
    const svg = this.svg();
    if (!stage || !svg) return;
    const rect = stage.getBoundingClientRect();
    const ax = event ? event.clientX - rect.left : rect.width / 2;
    const ay = event ? event.clientY - rect.top : rect.height / 2;
    const before = this.scale();
    const x = (stage.scrollLeft + ax) / before;
    const y = (stage.scrollTop + ay) / before;
    this.setZoom(before * factor);
    const after = this.scale();
    stage.scrollLeft = x * after - ax;
    stage.scrollTop = y * after - ay;
  },

  startDrag(event) {
    const stage = this.stage();
    if (!stage || event.button !== 0 || !stage.contains(event.target)) return;
    if (stage.scrollWidth <= stage.clientWidth && stage.scrollHeight <= stage.clientHeight) return;
    this.drag = { x: event.clientX, y: event.clientY, left: stage.scrollLeft, top: stage.scrollTop };
    stage.setPointerCapture?.(event.pointerId);
    stage.classList.add("dragging");
    event.preventDefault();
  },

  moveDrag(event) {
    const stage = this.stage();
    if (!this.drag || !stage) return;
    stage.scrollLeft = this.drag.left - (event.clientX - this.drag.x);
    stage.scrollTop = this.drag.top - (event.clientY - this.drag.y);
  },

  endDrag() {
    this.drag = null;
    const stage = this.stage();
    if (stage) stage.classList.remove("dragging");
  },
};

// -- the Neuron tab ---------------------------------------------------------------------------------

const NEURON_INPUTS = [
  ["x1", 2.0, -4, 4],
  ["x2", 0.0, -4, 4],
  ["w1", -3.0, -4, 4],
  ["w2", 1.0, -4, 4],
  ["b", 6.8813735870195432, -10, 10],
];

const Neuron = {
  values: {},
  inflight: false,
  queued: false,

  inputs: {},

  init() {
    const box = byTest("neuron-sliders");
    for (const [name, , min, max] of NEURON_INPUTS) {
      const label = document.createElement("label");
      label.innerHTML = `<span class="name">${name}</span>`;
      const input = document.createElement("input");
      Object.assign(input, { type: "range", min, max, step: "0.01" });
      input.dataset.testid = `neuron-${name}`;
      const shown = document.createElement("output");
      this.inputs[name] = [input, shown];
      input.addEventListener("input", () => {
        this.values[name] = Number.parseFloat(input.value);
        shown.textContent = fmt(this.values[name], 2);
        state.set(`n_${name}`, input.value);
        saveState();
        this.refresh();
      });
      label.append(input, shown);
      box.append(label);
    }
    this.load();
  },

  // The sliders as the URL says (the lecture's numbers where it says nothing).
  load() {
    for (const [name, initial] of NEURON_INPUTS) {
      const saved = Number.parseFloat(state.get(`n_${name}`));
      this.values[name] = Number.isFinite(saved) ? saved : initial;
      const [input, shown] = this.inputs[name];
      input.value = String(this.values[name]);
      shown.textContent = fmt(this.values[name], 2);
    }
  },

  async refresh() {
    if (!ready) return;
    if (this.inflight) {
      this.queued = true;
      return;
    }
    this.inflight = true;
    try {
      const out = await call("neuron", this.values);
      byTest("neuron-output").textContent = fmt(out.output, 4);
      const rows = Object.entries(out.nodes).map(
        ([name, v]) =>
          `<tr data-node="${name}"><td><code>${name}</code></td><td>${fmt(v.data)}</td><td>${fmt(v.grad)}</td></tr>`,
      );
      $("tbody", byTest("neuron-grads")).innerHTML = rows.join("");
      byTest("neuron-graph").innerHTML = out.svg;
    } catch (err) {
      byTest("neuron-output").textContent = `error: ${err.message}`;
    } finally {
      this.inflight = false;
      if (this.queued) {
        this.queued = false;
        this.refresh();
      }
    }
  },
};

// -- the Train tab -----------------------------------------------------------------------------------

const COLORS = [
  [245, 147, 34], // class 0: orange
  [8, 119, 189], // class 1: blue
  [60, 160, 80], // class 2: green
];
const POSITIVE = "#0877bd"; // a weight's sign, as TensorFlow Playground colours it
const NEGATIVE = "#f59322";
const DEFAULTS = {
  dataset: "moons",
  noise: "0.1",
  train: "0.75",
  seed: "2",
  loss: "auto",
  lr: "1",
  l2: "0",
  batch: "0",
  activation: "tanh",
  layers: "4,2",
  features: "x1,x2",
};

// A picture's values as a little heatmap: blue positive, orange negative, pale near 0.
function heatmap(canvas, values, size) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(size, size);
  const finite = values.filter((v) => v !== null && Number.isFinite(v));
  const scale = Math.max(1e-9, ...finite.map(Math.abs));
  values.forEach((v, i) => {
    const t = v === null || !Number.isFinite(v) ? 0 : v / scale;
    const [r, g, b] = t >= 0 ? COLORS[1] : COLORS[0];
    const a = Math.abs(t);
    image.data.set([255 - a * (255 - r), 255 - a * (255 - g), 255 - a * (255 - b), 255], 4 * i);
  });
  ctx.putImageData(image, 0, 0);
}

const Train = {
  started: false,
  playing: false,
  last: null,
  chunk: 2,
  lastPicture: 0,
  busy: false,
  edgeKey: "",

  setting(name) {
    return state.get(name) ?? DEFAULTS[name];
  },

  layers() {
    const text = this.setting("layers");
    return text === "" ? [] : text.split(",").map((w) => Number.parseInt(w, 10) || 1);
  },

  features() {
    return this.setting("features").split(",").filter(Boolean);
  },

  config() {
    return {
      dataset: this.setting("dataset"),
      noise: Number.parseFloat(this.setting("noise")),
      train: Number.parseFloat(this.setting("train")),
      seed: Number.parseInt(this.setting("seed"), 10),
      loss: this.setting("loss"),
      lr: Number.parseFloat(this.setting("lr")),
      l2: Number.parseFloat(this.setting("l2")),
      batch: Number.parseInt(this.setting("batch"), 10),
      activation: this.setting("activation"),
      layers: this.layers(),
      features: this.features(),
    };
  },

  // The controls as the URL says (the defaults where it says nothing).
  // The menus of data sets, activations and losses are the library's tables, as the Python
  // side reports them at boot: a row added there is a choice here.
  menus(info) {
    const fill = (testid, names, label = (n) => n) => {
      byTest(testid).replaceChildren(...names.map((n) => new Option(label(n), n)));
    };
    fill("dataset", info.datasets, (n) => (info.classes[n] > 2 ? `${n} (${info.classes[n]} classes)` : n));
    fill("train-activation", info.activations);
    fill("train-loss-fn", info.losses);
    this.load();
  },

  load() {
    for (const el of $$("#train [name]")) {
      el.value = this.setting(el.name);
      const output = el.parentElement.querySelector("output");
      if (output) output.textContent = el.value;
    }
  },

  init() {
    this.load();
    for (const el of $$("#train [name]")) {
      const name = el.name;
      const output = el.parentElement.querySelector("output");
      el.addEventListener(el.type === "range" ? "input" : "change", () => {
        if (output) output.textContent = el.value;
        state.set(name, el.value);
        saveState();
        this.restart();
      });
    }
    byTest("train-start").addEventListener("click", () => (this.playing ? this.pause() : this.play()));
    byTest("train-next").addEventListener("click", () => this.stepOnce());
    byTest("train-reset").addEventListener("click", () => this.restart());
    byTest("layer-add").addEventListener("click", () => this.editLayers((l) => l.length < 6 && l.push(2)));
    byTest("layer-remove").addEventListener("click", () => this.editLayers((l) => l.pop()));
    byTest("boundary").addEventListener("click", (e) => this.click(e));
    byTest("train-show-test").addEventListener("change", () => this.draw());
    byTest("train-export").addEventListener("click", () => this.export());
    const edges = byTest("network-edges");
    edges.addEventListener("pointerover", (e) => this.showEdge(e));
    edges.addEventListener("pointermove", (e) => this.moveTip(e));
    edges.addEventListener("pointerout", (e) => {
      if (e.target.dataset && e.target.dataset.edge) byTest("edge-tooltip").hidden = true;
    });
    window.addEventListener("resize", () => this.drawEdges(true));
  },

  editLayers(change) {
    const layers = this.layers();
    change(layers);
    state.set("layers", layers.join(","));
    saveState();
    this.restart();
  },

  toggleFeature(name) {
    const chosen = new Set(this.features());
    if (chosen.has(name)) chosen.delete(name);
    else chosen.add(name);
    if (!chosen.size) return; // the network needs an input
    const order = (window.playground?.info.features ?? []).map((f) => f.name);
    state.set("features", order.filter((f) => chosen.has(f)).join(","));
    saveState();
    this.restart();
  },

  // One of the advice's tries: set the page's controls it names, and start again.
  applyTry(settings) {
    for (const [name, value] of Object.entries(settings)) state.set(name, value);
    saveState();
    this.load();
    this.restart();
  },

  ensure() {
    if (!this.started && ready) this.restart();
  },

  async restart() {
    if (!ready) return;
    this.started = true;
    this.pause();
    await this.whenIdle();
    byTest("export-note").hidden = true;
    const out = await call("trainNew", { config: this.config() });
    this.update(out);
  },

  async whenIdle() {
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
  },

  play() {
    if (this.playing) return;
    if (this.last && this.last.advice && this.last.advice.kind === "diverged") return;
    this.playing = true;
    const button = byTest("train-start");
    button.innerHTML = ICONS.pause;
    button.setAttribute("aria-label", "Pause");
    button.classList.add("playing");
    this.loop();
  },

  pause() {
    this.playing = false;
    const button = byTest("train-start");
    button.innerHTML = ICONS.play;
    button.setAttribute("aria-label", "Play");
    button.classList.remove("playing");
  },

  // Play: chunks of steps sized to take about 200 ms each, so pause answers quickly; a new
  // picture (the plane, the neurons, a point on the curves) about every 600 ms, as measuring
  // costs forward passes that training would rather spend on steps.
  async loop() {
    while (this.playing) {
      const picture = performance.now() - this.lastPicture > 600;
      const t0 = performance.now();
      const ok = await this.run(this.chunk, picture);
      if (!ok) return;
      if (!picture) {
        const perStep = (performance.now() - t0) / this.chunk;
        this.chunk = Math.max(1, Math.min(50, Math.round(200 / Math.max(perStep, 1))));
      }
    }
    await this.run(0, true); // paused: measure where it stopped
  },

  async stepOnce() {
    this.pause();
    await this.whenIdle();
    await this.run(1, true);
  },

  async run(steps, picture) {
    this.busy = true;
    try {
      const out = await call("trainStep", { steps, picture });
      if (!out.ok) {
        this.pause();
        this.showError(out.error.message);
        return false;
      }
      this.update(out);
      return true;
    } catch (err) {
      this.pause();
      this.showError(err.message);
      return false;
    } finally {
      this.busy = false;
    }
  },

  showError(message) {
    const box = byTest("train-error");
    box.hidden = false;
    box.textContent = message;
  },

  // What the whole run says about itself (learned nothing, diverged), with a button for each
  // of the page's controls it suggests; hidden as soon as it no longer holds.
  showAdvice(advice) {
    const box = byTest("train-advice");
    box.hidden = !advice;
    if (!advice) {
      box.dataset.kind = "";
      box.dataset.text = "";
      return;
    }
    if (box.dataset.text === advice.text) return; // unchanged: keep the buttons
    box.dataset.kind = advice.kind;
    box.dataset.text = advice.text;
    byTest("train-advice-text").textContent = advice.text;
    const tries = byTest("train-advice-tries");
    tries.replaceChildren();
    if (!advice.tries.length) return;
    const lead = document.createElement("span");
    lead.textContent = "Try:";
    tries.append(lead);
    advice.tries.forEach((t, i) => {
      if (t.set) {
        const button = document.createElement("button");
        button.className = "small";
        button.textContent = t.text;
        button.dataset.testid = `train-try-${i + 1}`;
        button.addEventListener("click", () => this.applyTry(t.set));
        tries.append(button);
      } else {
        const note = document.createElement("span");
        note.textContent = t.text;
        tries.append(note);
      }
    });
  },

  update(out) {
    if (!out.ok) {
      this.showError(out.error.message);
      return;
    }
    byTest("train-error").hidden = true;
    this.showAdvice(out.advice);
    if (out.advice && out.advice.kind === "diverged") this.pause();
    const previous = this.last;
    this.last = out;
    if (!out.picture && previous && previous.picture) out.picture = previous.picture;
    else if (out.picture) this.lastPicture = performance.now();
    const c = out.curves;
    const last = c.step.length - 1;
    byTest("train-step").textContent = String(out.steps);
    byTest("train-accuracy").textContent = percent(c.train_accuracy[last]);
    byTest("train-test-accuracy").textContent = percent(c.test_accuracy[last]);
    byTest("train-loss").textContent = fmt(c.train_loss[last], 4);
    byTest("train-test-loss").textContent = fmt(c.test_loss[last], 4);
    byTest("train-speed").textContent = out.seconds > 0 ? `${(out.steps / out.seconds).toFixed(1)} steps/s` : "–";
    const classes = out.config.classes;
    const addClass = byTest("train-add-class");
    if (addClass.options.length !== classes) {
      addClass.innerHTML = ["orange (class 0)", "blue (class 1)", "green (class 2)"]
        .slice(0, classes)
        .map((t, i) => `<option value="${i}">${t}</option>`)
        .join("");
    }
    const lossSelect = byTest("train-loss-fn");
    lossSelect.value = out.config.loss;
    for (const option of lossSelect.options) {
      option.disabled = classes > 2 && option.value !== "cross_entropy";
    }
    byTest("layer-count").textContent = `${out.config.layers.length} hidden`;
    this.draw();
  },

  // -- pictures

  draw() {
    const out = this.last;
    if (!out) return;
    this.drawNetwork(out);
    if (out.picture) this.drawBoundary(out);
    this.drawCurve(byTest("loss-curve"), out.curves, ["train_loss", "test_loss"], "loss");
    this.drawCurve(byTest("accuracy-curve"), out.curves, ["train_accuracy", "test_accuracy"], "accuracy");
  },

  color(score, threshold, classes) {
    if (Array.isArray(score)) {
      const max = Math.max(...score);
      const exps = score.map((s) => Math.exp(s - max));
      const total = exps.reduce((a, b) => a + b, 0);
      const k = score.indexOf(max);
      return [k, (exps[k] / total - 1 / classes) / (1 - 1 / classes)];
    }
    const d = score - threshold;
    return [d > 0 ? 1 : 0, Math.min(1, Math.abs(Math.tanh(d)))];
  },

  drawBoundary(out) {
    const canvas = byTest("boundary");
    const ctx = canvas.getContext("2d");
    const { grid, scores, span } = out.picture;
    const image = ctx.createImageData(grid, grid);
    scores.forEach((score, i) => {
      const unknown = score === null || (Array.isArray(score) && score.includes(null));
      const [k, strength] = unknown ? [0, 0] : this.color(score, out.threshold, out.config.classes);
      const a = unknown ? 0 : 0.15 + 0.55 * strength;
      const [r, g, b] = COLORS[k];
      image.data.set([255 - a * (255 - r), 255 - a * (255 - g), 255 - a * (255 - b), 255], 4 * i);
    });
    const scratch = new OffscreenCanvas(grid, grid);
    scratch.getContext("2d").putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(scratch, 0, 0, canvas.width, canvas.height);
    const toPixel = ([x, y]) => [((x + span) / (2 * span)) * canvas.width, ((span - y) / (2 * span)) * canvas.height];
    const dot = (p, label, test) => {
      const [px, py] = toPixel(p);
      ctx.beginPath();
      ctx.arc(px, py, 4, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${COLORS[label].join(",")})`;
      ctx.fill();
      ctx.lineWidth = test ? 1.5 : 1;
      ctx.strokeStyle = test ? "#222" : "#fff";
      ctx.stroke();
    };
    out.train.X.forEach((p, i) => dot(p, out.train.y[i], false));
    if (byTest("train-show-test").checked) out.test.X.forEach((p, i) => dot(p, out.test.y[i], true));
  },

  // -- the network, drawn as TensorFlow Playground draws it: the input features, the hidden
  // neurons and the outputs as little heatmaps over the plane, and a line for every weight

  nodeCanvas(size, node, testid, title) {
    const c = document.createElement("canvas");
    c.width = c.height = size;
    c.className = "neuron-map";
    c.dataset.node = node;
    c.dataset.testid = testid;
    c.title = title;
    return c;
  },

  buildNetwork(out) {
    const widths = out.config.layers;
    const chosen = out.config.features;
    const n = out.picture ? out.picture.neuron_grid : 12;
    const outputs = out.network.weights[out.network.weights.length - 1].length;
    const key = `${chosen.join(",")}|${widths.join(",")}|${outputs}`;
    const view = byTest("network");
    if (view.dataset.shape === key) return;
    view.dataset.shape = key;
    this.edgeKey = "";

    const features = byTest("features");
    features.replaceChildren();
    for (const f of window.playground.info.features) {
      const row = document.createElement("button");
      row.type = "button";
      row.className = `feature${chosen.includes(f.name) ? " on" : ""}`;
      row.dataset.testid = `feature-${f.name}`;
      row.setAttribute("aria-pressed", String(chosen.includes(f.name)));
      row.title = `${f.label} (${f.formula}): click to ${chosen.includes(f.name) ? "leave it out" : "feed it in"}`;
      const label = document.createElement("span");
      label.textContent = f.label;
      row.append(label, this.nodeCanvas(n, `f:${f.name}`, `feature-map-${f.name}`, f.label));
      row.addEventListener("click", () => this.toggleFeature(f.name));
      features.append(row);
    }

    const box = byTest("layers");
    box.replaceChildren();
    widths.forEach((width, k) => {
      const column = document.createElement("div");
      column.className = "layer";
      const head = document.createElement("div");
      head.className = "layer-head";
      const minus = Object.assign(document.createElement("button"), { className: "small", textContent: "-" });
      const plus = Object.assign(document.createElement("button"), { className: "small", textContent: "+" });
      minus.dataset.testid = `neurons-remove-${k + 1}`;
      plus.dataset.testid = `neurons-add-${k + 1}`;
      minus.setAttribute("aria-label", `one neuron fewer in layer ${k + 1}`);
      plus.setAttribute("aria-label", `one neuron more in layer ${k + 1}`);
      const count = document.createElement("span");
      count.textContent = `${width}`;
      minus.addEventListener("click", () => this.editLayers((l) => (l[k] = Math.max(1, l[k] - 1))));
      plus.addEventListener("click", () => this.editLayers((l) => (l[k] = Math.min(16, l[k] + 1))));
      head.append(minus, count, plus);
      column.append(head);
      for (let m = 0; m < width; m++) {
        const c = this.nodeCanvas(n, `h:${k + 1}:${m + 1}`, `neuron-map-${k + 1}-${m + 1}`,
          `h${k + 1}_${m + 1}: layer ${k + 1}, neuron ${m + 1}. Click: its forward and backward pass`);
        c.classList.add("clickable");
        c.addEventListener("click", () => this.openNeuron(k + 1, m + 1));
        column.append(c);
      }
      box.append(column);
    });

    const outs = byTest("network-outputs");
    outs.replaceChildren();
    const head = document.createElement("div");
    head.className = "layer-head";
    head.textContent = "out";
    outs.append(head);
    const L = widths.length + 1;
    for (let m = 0; m < outputs; m++) {
      const name = outputs === 1 ? "out" : `out${m + 1}`;
      const c = this.nodeCanvas(out.picture ? out.picture.grid : 24, `o:${m + 1}`, `network-output-${m + 1}`,
        `${name}: the network's output${outputs > 1 ? ` for class ${m}` : ""}. Click: its forward and backward pass`);
      c.classList.add("clickable");
      c.addEventListener("click", () => this.openNeuron(L, m + 1));
      outs.append(c);
    }
  },

  drawNetwork(out) {
    this.buildNetwork(out);
    if (out.picture) {
      const n = out.picture.neuron_grid;
      for (const [name, values] of Object.entries(out.picture.features)) {
        const c = byTest(`feature-map-${name}`);
        if (c) heatmap(c, values, n);
      }
      out.picture.neurons.forEach((layer, k) => {
        layer.forEach((values, m) => {
          const c = byTest(`neuron-map-${k + 1}-${m + 1}`);
          if (c) heatmap(c, values, n);
        });
      });
      const outputs = out.network.weights[out.network.weights.length - 1].length;
      for (let m = 0; m < outputs; m++) {
        const c = byTest(`network-output-${m + 1}`);
        const values = out.picture.scores.map((s) =>
          Array.isArray(s) ? s[m] : s === null ? null : s - out.threshold,
        );
        if (c) heatmap(c, values, out.picture.grid);
      }
    }
    this.drawEdges();
  },

  // A line per weight, from the neuron (or feature) it reads to the neuron it feeds: blue for
  // a positive weight, orange for a negative one, thicker for a larger one. Built once per
  // shape, then only recoloured as the weights change.
  drawEdges(force = false) {
    const out = this.last;
    if (!out) return;
    const view = byTest("network");
    const svg = byTest("network-edges");
    const weights = out.network.weights;
    const chosen = out.config.features;
    const L = weights.length;
    const from = (k, i) => (k === 1 ? `f:${chosen[i - 1]}` : `h:${k - 1}:${i}`);
    const to = (k, m) => (k === L ? `o:${m}` : `h:${k}:${m}`);
    const key = `${view.dataset.shape}|${view.clientWidth}x${view.clientHeight}`;
    if (force || key !== this.edgeKey) {
      this.edgeKey = key;
      const base = view.getBoundingClientRect();
      svg.setAttribute("width", view.scrollWidth);
      svg.setAttribute("height", view.scrollHeight);
      const spot = (node, side) => {
        const el = $(`[data-node="${node}"]`, view);
        if (!el) return null;
        const r = el.getBoundingClientRect();
        const x = (side === "out" ? r.right : r.left) - base.left + view.scrollLeft;
        return [x, r.top + r.height / 2 - base.top + view.scrollTop];
      };
      const parts = [];
      weights.forEach((layer, k0) => {
        layer.forEach((unit, m0) => {
          unit.w.forEach((_, i0) => {
            const [k, m, i] = [k0 + 1, m0 + 1, i0 + 1];
            const a = spot(from(k, i), "out");
            const b = spot(to(k, m), "in");
            if (!a || !b) return;
            const dx = (b[0] - a[0]) / 2;
            const d = `M${a[0].toFixed(1)},${a[1].toFixed(1)} C${(a[0] + dx).toFixed(1)},${a[1].toFixed(1)} ` +
              `${(b[0] - dx).toFixed(1)},${b[1].toFixed(1)} ${b[0].toFixed(1)},${b[1].toFixed(1)}`;
            const id = `${k}-${m}-${i}`;
            parts.push(`<path class="edge" data-testid="edge-${id}" data-k="${k}" data-m="${m}" data-i="${i}" d="${d}"/>`);
            parts.push(`<path class="edge-hit" data-edge="${id}" d="${d}" pointer-events="stroke"/>`);
          });
        });
      });
      svg.innerHTML = parts.join("");
    }
    for (const path of svg.querySelectorAll("path.edge")) {
      const w = weights[path.dataset.k - 1][path.dataset.m - 1].w[path.dataset.i - 1];
      const ok = w !== null && Number.isFinite(w);
      path.setAttribute("stroke", !ok ? "#999" : w >= 0 ? POSITIVE : NEGATIVE);
      path.setAttribute("stroke-width", ok ? Math.min(7, 0.5 + 2 * Math.abs(w)).toFixed(2) : "0.5");
      path.dataset.weight = ok ? String(w) : "";
    }
    const tip = byTest("edge-tooltip");
    if (!tip.hidden && tip.dataset.edge) this.fillTip(tip.dataset.edge);
  },

  edgeName(id) {
    const [k, m, i] = id.split("-").map(Number);
    const out = this.last;
    const L = out.network.weights.length;
    const source = k === 1 ? out.config.features[i - 1] : `h${k - 1}_${i}`;
    const outputs = out.network.weights[L - 1].length;
    const target = k === L ? (outputs === 1 ? "out" : `out${m}`) : `h${k}_${m}`;
    return { k, m, i, weight: `w${k}_${m}_${i}`, source, target };
  },

  fillTip(id) {
    const out = this.last;
    const tip = byTest("edge-tooltip");
    const e = this.edgeName(id);
    const w = out.network.weights[e.k - 1][e.m - 1].w[e.i - 1];
    const grads = out.network.grads;
    const g = grads ? grads[e.k - 1][e.m - 1].w[e.i - 1] : null;
    tip.dataset.edge = id;
    tip.dataset.weight = String(w);
    tip.dataset.grad = String(g);
    tip.textContent =
      `${e.weight}: ${e.source} → ${e.target}\nweight ${fmt(w)}\n` +
      `gradient dL/d${e.weight} ${fmt(g)} (training loss, step ${out.network.grads_step})`;
  },

  showEdge(event) {
    const id = event.target.dataset && event.target.dataset.edge;
    if (!id || !this.last) return;
    const tip = byTest("edge-tooltip");
    this.fillTip(id);
    tip.hidden = false;
    this.moveTip(event);
  },

  moveTip(event) {
    const tip = byTest("edge-tooltip");
    if (tip.hidden) return;
    tip.style.left = `${event.clientX + 14}px`;
    tip.style.top = `${event.clientY + 14}px`;
  },

  drawCurve(canvas, curves, keys, what) {
    const ctx = canvas.getContext("2d");
    const { width: w, height: h } = canvas;
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = "#fafafa";
    ctx.fillRect(0, 0, w, h);
    const steps = curves.step;
    const values = keys.flatMap((k) => curves[k]).filter((v) => v !== null && Number.isFinite(v));
    if (!steps.length || !values.length) return;
    const top = what === "accuracy" ? 1 : Math.max(...values) || 1;
    const bottom = what === "accuracy" ? Math.min(0.5, ...values) : 0;
    const maxStep = Math.max(steps[steps.length - 1], 1);
    const x = (s) => 4 + (s / maxStep) * (w - 8);
    const y = (v) => h - 14 - ((v - bottom) / (top - bottom || 1)) * (h - 24);
    keys.forEach((key, i) => {
      ctx.beginPath();
      ctx.setLineDash(i ? [4, 3] : []);
      ctx.strokeStyle = i ? "#777" : "#222";
      let drawing = false;
      curves[key].forEach((v, j) => {
        if (v === null || !Number.isFinite(v)) {
          drawing = false;
          return;
        }
        if (!drawing) ctx.moveTo(x(steps[j]), y(v));
        else ctx.lineTo(x(steps[j]), y(v));
        drawing = true;
      });
      ctx.stroke();
    });
    ctx.setLineDash([]);
    ctx.fillStyle = "#444";
    ctx.font = "11px sans-serif";
    ctx.fillText(`${what}: train — test - - (step ${steps[steps.length - 1]})`, 6, h - 2);
  },

  // -- clicks on the boundary: open a point's graph, or add a point

  async click(event) {
    const out = this.last;
    if (!out) return;
    const canvas = byTest("boundary");
    const rect = canvas.getBoundingClientRect();
    const px = ((event.clientX - rect.left) / rect.width) * canvas.width;
    const py = ((event.clientY - rect.top) / rect.height) * canvas.height;
    const span = out.picture ? out.picture.span : 1.3;
    const toPixel = ([x, y]) => [((x + span) / (2 * span)) * canvas.width, ((span - y) / (2 * span)) * canvas.height];
    let best = null;
    const sets = [["train", out.train.X]];
    if (byTest("train-show-test").checked) sets.push(["test", out.test.X]);
    for (const [which, X] of sets) {
      X.forEach((p, index) => {
        const [qx, qy] = toPixel(p);
        const d = Math.hypot(qx - px, qy - py);
        if (d <= 7 && (!best || d < best.d)) best = { which, index, d };
      });
    }
    this.pause();
    await this.whenIdle();
    if (best) {
      await this.openProgram(call("trainPointProgram", { which: best.which, index: best.index }));
      return;
    }
    const x = (px / canvas.width) * 2 * span - span;
    const y = span - (py / canvas.height) * 2 * span;
    const label = Number.parseInt(byTest("train-add-class").value, 10);
    this.update(await call("trainAddPoint", { x, y, label }));
  },

  // A neuron's (or an output's) own forward and backward pass, in the Expression tab.
  async openNeuron(layer, index) {
    this.pause();
    await this.whenIdle();
    await this.openProgram(call("trainNeuronProgram", { layer, index }));
  },

  async openProgram(request) {
    const out = await request;
    if (!out.ok) {
      this.showError(out.error.message);
      return;
    }
    Expression.editor.value = out.program;
    showTab("expression");
    await Expression.run(out.program);
  },

  async export() {
    this.pause();
    // The last export's links and note go first: nothing stale can be read while this one runs.
    const note = byTest("export-note");
    note.textContent = "";
    note.hidden = true;
    for (const id of ["export-model", "export-script"]) byTest(id).hidden = true;
    await this.whenIdle();
    const out = await call("trainExport");
    if (!out.ok) {
      this.showError(out.error.message);
      return;
    }
    for (const [id, text, type] of [
      ["export-model", out.model, "application/json"],
      ["export-script", out.script, "text/x-python"],
    ]) {
      const link = byTest(id);
      if (link.href) URL.revokeObjectURL(link.href);
      link.href = URL.createObjectURL(new Blob([text], { type }));
      link.hidden = false;
    }
    note.textContent =
      `Exported at step ${out.steps}: train accuracy ${percent(out.train_accuracy)}, test accuracy ` +
      `${percent(out.test_accuracy)}. The file keeps the data set, noise, seed, split, scaling and ` +
      "features, so `chainrule eval model.json` and predict.py score these very points.";
    note.hidden = false;
    byTest("export-model").click();
  },
};

// -- a link opened in this tab (or back/forward): the page takes the URL's state, Python stays up

let linksOpened = 0; // how many links this tab has taken: a script waits for the count to grow

window.addEventListener("hashchange", async () => {
  const next = new URLSearchParams(location.hash.slice(1));
  Train.last = null; // the old run no longer describes the page: the Train tab rebuilds it
  for (const key of [...state.keys()]) state.delete(key);
  for (const [key, value] of next) state.set(key, value);
  Expression.editor.value = state.get("expr") ?? LECTURE;
  Neuron.load();
  Train.load();
  Train.pause();
  Train.started = false; // the Train tab starts afresh, with the new settings, when shown
  const tab = state.get("tab") || "expression";
  showTab(tab, false);
  if (ready && tab === "expression") await Expression.run();
  linksOpened += 1;
});

// -- start -----------------------------------------------------------------------------------------

let ready = false;

Expression.init();
Neuron.init();
Train.init();
showTab(state.get("tab") || "expression", false);

(async () => {
  playerReady = loadPlayer();
  try {
    const info = await call("boot");
    ready = true;
    // For scripts and tests that drive the page: the worker's commands and the tabs' state.
    window.playground = {
      info, bootMs: info.boot_ms, call, Expression, Neuron, Train,
      get links() { return linksOpened; },
    };
    byTest("functions").textContent = info.functions.join(", ");
    Train.menus(info);
    byTest("versions").textContent =
      `chainrule ${info.chainrule} · Python ${info.python} (Pyodide ${info.pyodide}) · ` +
      `Graphviz ${info.graphviz} · started in ${(info.boot_ms / 1000).toFixed(1)} s · nothing leaves your browser`;
    setStatus("Ready.", "good");
    byTest("run").disabled = false;
    await playerReady;
    const tab = state.get("tab") || "expression";
    if (tab === "expression") await Expression.run();
    if (tab === "neuron") await Neuron.refresh();
    if (tab === "train") await Train.restart();
    document.body.dataset.ready = "true";
  } catch (err) {
    setStatus(`Python could not start: ${err.message}`, "bad");
    document.body.dataset.ready = "error";
  }
})();
