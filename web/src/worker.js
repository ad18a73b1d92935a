// The playground's worker: chainrule's Python (Pyodide) and Graphviz (viz.js), off the page's
// thread. A module worker: current Pyodide no longer loads in classic workers.
//
// The page posts {id, cmd, args}; the worker answers {id, ok, result} or {id, ok: false, error}.
// Every Python function of chainrule_web returns a JSON string; pictures come back as SVG text,
// laid out here by viz.js's render (renderSVGElement needs a document, which a worker lacks).

import { loadPyodide } from "./pyodide/pyodide.mjs";
import { instance as vizInstance } from "./vendor/viz.js";

const LIB = "/home/pyodide/lib";
let api = null;
let viz = null;
let booting = null;

async function boot() {
  const started = performance.now();
  const indexURL = new URL("./pyodide/", import.meta.url).href;
  const [pyodide, archive, graphviz] = await Promise.all([
    loadPyodide({ indexURL }),
    fetch(new URL("./chainrule.zip", import.meta.url)).then((r) => {
      if (!r.ok) throw new Error(`chainrule.zip: HTTP ${r.status}`);
      return r.arrayBuffer();
    }),
    vizInstance(),
  ]);
  pyodide.FS.mkdirTree(LIB);
  pyodide.unpackArchive(archive, "zip", { extractDir: LIB });
  pyodide.runPython(`import sys\nsys.path.insert(0, ${JSON.stringify(LIB)})`);
  api = pyodide.pyimport("chainrule_web");
  viz = graphviz;
  const info = JSON.parse(api.boot());
  info.graphviz = viz.graphvizVersion;
  info.pyodide = pyodide.version;
  info.boot_ms = performance.now() - started;
  return info;
}

function svg(dot) {
  return viz.renderString(dot, { format: "svg" });
}

const commands = {
  async boot() {
    booting ??= boot();
    return booting;
  },
  expression({ source }) {
    const out = JSON.parse(api.expression(source));
    if (out.ok) out.svg = svg(out.dot);
    return out;
  },
  neuron({ x1, x2, w1, w2, b }) {
    const out = JSON.parse(api.neuron(x1, x2, w1, w2, b));
    out.svg = svg(out.dot);
    return out;
  },
  trainNew({ config }) {
    return JSON.parse(api.train_new(JSON.stringify(config)));
  },
  trainStep({ steps, picture }) {
    return JSON.parse(api.train_step(steps, picture));
  },
  trainAddPoint({ x, y, label }) {
    return JSON.parse(api.train_add_point(x, y, label));
  },
  trainPointProgram({ which, index }) {
    return JSON.parse(api.train_point_program(which, index));
  },
  trainNeuronProgram({ layer, index }) {
    return JSON.parse(api.train_neuron_program(layer, index));
  },
  trainExport() {
    return JSON.parse(api.train_export());
  },
  benchmark({ steps }) {
    return JSON.parse(api.benchmark(steps));
  },
};

self.onmessage = async (event) => {
  const { id, cmd, args } = event.data;
  try {
    if (cmd !== "boot") await commands.boot();
    const result = await commands[cmd](args || {});
    self.postMessage({ id, ok: true, result });
  } catch (err) {
    // A Python exception arrives as a PythonError whose message ends with the traceback.
    const text = String(err && err.message ? err.message : err);
    const lines = text.trim().split("\n");
    self.postMessage({ id, ok: false, error: lines[lines.length - 1], detail: text });
  }
};
