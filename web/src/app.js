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
  return Number(x).toFixed(digits);
}

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
  if (name === "train") Train.ensure();
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
  stepper: byTest("stepper"),
  stepButton: byTest("step"),
  counter: byTest("step-count"),
  player: null,
  frames: [],
  firstBackward: 0,
  poll: null,
  busy: false,

  init() {
    this.editor.value = state.get("expr") ?? LECTURE;
    this.runButton.addEventListener("click", () => this.run());
    this.editor.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        this.run();
      }
    });
    this.stepButton.addEventListener("click", () => this.step());
    byTest("step-reset").addEventListener("click", () => this.rewind());
    for (const link of $$("[data-example]")) {
      link.addEventListener("click", (e) => {
        e.preventDefault();
        this.editor.value = link.dataset.example;
        this.run();
      });
    }
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

  async show(out) {
    clearInterval(this.poll);
    if (this.player) this.player.destroy();
    this.player = null;
    this.graph.replaceChildren();
    if (!(await playerReady)) {
      this.showError({ message: "the animation player (player/player.js) did not load" }, "");
      return;
    }
    // chainrule.animate's player: the forward frames, then one chain-rule step per frame.
    const data = { ...out.animation, svg: out.svg };
    this.player = window.ChainrulePlayer.mount(this.graph, data);
    this.frames = data.frames;
    this.firstBackward = Math.max(
      0,
      this.frames.findIndex((f) => f.phase === "backward"),
    );
    this.player.goto(Math.max(0, this.firstBackward - 1)); // every value in, no grad yet
    this.stepper.hidden = false;
    this.poll = setInterval(() => this.render(), 250); // follow the player's own controls
    this.render();
  },

  // One backward step: the player's next frame.
  step() {
    if (this.player) this.player.next();
    this.render();
  },

  rewind() {
    if (this.player) this.player.goto(Math.max(0, this.firstBackward - 1));
    this.render();
  },

  render() {
    if (!this.player) return;
    const frame = this.player.frame;
    const backward = this.frames.length - this.firstBackward;
    const done = Math.max(0, frame - this.firstBackward + 1);
    this.stepButton.disabled = frame >= this.frames.length - 1;
    this.counter.textContent = `backward step ${done} of ${backward}`;
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
};

const Train = {
  started: false,
  playing: false,
  last: null,
  chunk: 2,
  lastPicture: 0,
  busy: false,

  setting(name) {
    return state.get(name) ?? DEFAULTS[name];
  },

  layers() {
    const text = this.setting("layers");
    return text === "" ? [] : text.split(",").map((w) => Number.parseInt(w, 10) || 1);
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
    };
  },

  // The controls as the URL says (the defaults where it says nothing).
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
  },

  editLayers(change) {
    const layers = this.layers();
    change(layers);
    state.set("layers", layers.join(","));
    saveState();
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
    const out = await call("trainNew", { config: this.config() });
    this.update(out);
  },

  async whenIdle() {
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
  },

  play() {
    if (this.playing) return;
    this.playing = true;
    byTest("train-start").textContent = "⏸";
    byTest("train-start").classList.add("playing");
    this.loop();
  },

  pause() {
    this.playing = false;
    byTest("train-start").textContent = "▶";
    byTest("train-start").classList.remove("playing");
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

  update(out) {
    if (!out.ok) {
      this.showError(out.error.message);
      return;
    }
    byTest("train-error").hidden = true;
    const warning = byTest("train-warning");
    warning.hidden = !out.warning;
    warning.textContent = out.warning ? `chainrule.learn.fit warns: ${out.warning}` : "";
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
    if (out.picture) {
      this.drawBoundary(out);
      this.drawNeurons(out);
    }
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
      const [k, strength] = this.color(score, out.threshold, out.config.classes);
      const a = 0.15 + 0.55 * strength;
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

  drawNeurons(out) {
    const box = byTest("layers");
    const widths = out.config.layers;
    const { neurons, neuron_grid: n } = out.picture;
    const shape = widths.join(",");
    if (box.dataset.shape !== shape) {
      box.dataset.shape = shape;
      box.replaceChildren();
      widths.forEach((width, k) => {
        const column = document.createElement("div");
        column.className = "layer";
        const head = document.createElement("div");
        head.className = "layer-head";
        const minus = Object.assign(document.createElement("button"), { className: "small", textContent: "−" });
        const plus = Object.assign(document.createElement("button"), { className: "small", textContent: "+" });
        minus.dataset.testid = `neurons-remove-${k + 1}`;
        plus.dataset.testid = `neurons-add-${k + 1}`;
        const count = document.createElement("span");
        count.textContent = `${width}`;
        minus.addEventListener("click", () => this.editLayers((l) => (l[k] = Math.max(1, l[k] - 1))));
        plus.addEventListener("click", () => this.editLayers((l) => (l[k] = Math.min(16, l[k] + 1))));
        head.append(minus, count, plus);
        column.append(head);
        for (let m = 0; m < width; m++) {
          const c = document.createElement("canvas");
          c.width = c.height = n;
          c.className = "neuron-map";
          c.dataset.testid = `neuron-map-${k + 1}-${m + 1}`;
          c.title = `layer ${k + 1}, neuron ${m + 1}`;
          column.append(c);
        }
        box.append(column);
      });
    }
    neurons.forEach((layer, k) => {
      layer.forEach((values, m) => {
        const canvas = byTest(`neuron-map-${k + 1}-${m + 1}`, box);
        if (!canvas) return;
        const ctx = canvas.getContext("2d");
        const image = ctx.createImageData(n, n);
        const scale = Math.max(1e-9, ...values.map(Math.abs));
        values.forEach((v, i) => {
          const t = v / scale;
          const [r, g, b] = t >= 0 ? COLORS[1] : COLORS[0];
          const a = Math.abs(t);
          image.data.set([255 - a * (255 - r), 255 - a * (255 - g), 255 - a * (255 - b), 255], 4 * i);
        });
        ctx.putImageData(image, 0, 0);
      });
    });
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
      curves[key].forEach((v, j) => {
        if (v === null) return;
        if (j === 0) ctx.moveTo(x(steps[j]), y(v));
        else ctx.lineTo(x(steps[j]), y(v));
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
      await this.openPoint(best.which, best.index);
      return;
    }
    const x = (px / canvas.width) * 2 * span - span;
    const y = span - (py / canvas.height) * 2 * span;
    const label = Number.parseInt(byTest("train-add-class").value, 10);
    this.update(await call("trainAddPoint", { x, y, label }));
  },

  async openPoint(which, index) {
    const out = await call("trainPointProgram", { which, index });
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
    byTest("export-model").click();
  },
};

// -- a link opened in this tab (or back/forward): the page takes the URL's state, Python stays up

window.addEventListener("hashchange", async () => {
  const next = new URLSearchParams(location.hash.slice(1));
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
    window.playground = { info, bootMs: info.boot_ms, call, Expression, Neuron, Train };
    byTest("functions").textContent = info.functions.join(", ");
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
