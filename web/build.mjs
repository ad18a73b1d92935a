// Builds the playground into web/dist: a static folder that needs no network.
//
//   npm ci && npm run build        (or, from the repository root: make web)
//
// What goes in:
//   src/*                   the page, its script, the worker, the styles
//   pyodide/                Python compiled to WebAssembly, from node_modules/pyodide
//   vendor/viz.js           Graphviz compiled to WebAssembly, from node_modules/@viz-js/viz
//   player/                 chainrule's animation player (chainrule/viz/player)
//   chainrule.zip           the chainrule/ package of this repository, with the playground's
//                           two Python modules (src/py), unpacked into Pyodide's file system
//   build.json              what was built, from which versions and from which sources: the
//                           sha256 of every file read from this repository (the chainrule/
//                           package, src/, this script, the lock file), so that a test can
//                           tell a build of other sources from one of the checkout
//
// Only Node's standard library is used: no bundler, nothing fetched.

import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
const dist = path.join(here, "dist");
const modules = path.join(here, "node_modules");

const PYODIDE_FILES = [
  "pyodide.mjs",
  "pyodide.asm.mjs",
  "pyodide.asm.wasm",
  "python_stdlib.zip",
  "pyodide-lock.json",
];

function fail(message) {
  console.error(`web build: ${message}`);
  process.exit(1);
}

function copy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
}

function version(pkg) {
  return JSON.parse(fs.readFileSync(path.join(modules, pkg, "package.json"), "utf8")).version;
}

// -- a small zip writer (deflate, fixed dates, sorted names: the same bytes for the same files)

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  if (typeof zlib.crc32 === "function") return zlib.crc32(bytes) >>> 0;
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function zip(entries) {
  const DOS_DATE = (1 << 5) | 1; // 1980-01-01
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBytes = Buffer.from(name, "utf8");
    const packed = zlib.deflateRawSync(data, { level: 9 });
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, nameBytes, packed);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // made by
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + packed.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

function packageFiles(dir, prefix) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "__pycache__" || entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    const name = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...packageFiles(full, name));
    else if (!entry.name.endsWith(".pyc")) out.push({ name, data: fs.readFileSync(full) });
  }
  return out;
}

// -- the build ----------------------------------------------------------------------------------

for (const pkg of ["pyodide", "@viz-js/viz"]) {
  if (!fs.existsSync(path.join(modules, pkg, "package.json"))) {
    fail(`node_modules/${pkg} is missing; run 'npm ci' in web/ first (make web does both)`);
  }
}
const packageDir = path.join(root, "chainrule");
if (!fs.existsSync(path.join(packageDir, "__init__.py"))) {
  fail(`no chainrule package at ${packageDir}`);
}

fs.rmSync(dist, { recursive: true, force: true });
fs.mkdirSync(dist, { recursive: true });

for (const name of fs.readdirSync(path.join(here, "src"))) {
  const from = path.join(here, "src", name);
  if (fs.statSync(from).isFile()) copy(from, path.join(dist, name));
}
for (const name of PYODIDE_FILES) {
  copy(path.join(modules, "pyodide", name), path.join(dist, "pyodide", name));
}
copy(path.join(modules, "@viz-js", "viz", "dist", "viz.js"), path.join(dist, "vendor", "viz.js"));

// The player of chainrule.animate: the package's own files, one copy.
const playerDir = path.join(packageDir, "viz", "player");
for (const name of ["player.js", "player.css"]) {
  if (!fs.existsSync(path.join(playerDir, name))) fail(`chainrule/viz/player/${name} is missing`);
  copy(path.join(playerDir, name), path.join(dist, "player", name));
}

const packaged = packageFiles(packageDir, "chainrule");
const entries = [
  ...packaged,
  ...fs
    .readdirSync(path.join(here, "src", "py"))
    .filter((f) => f.endsWith(".py"))
    .map((f) => ({ name: f, data: fs.readFileSync(path.join(here, "src", "py", f)) })),
].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
const archive = zip(entries);
fs.writeFileSync(path.join(dist, "chainrule.zip"), archive);

const sha256 = (data) => createHash("sha256").update(data).digest("hex");

// Every file of this repository the build read, by its path from the repository's root, with
// its sha256: the package as zipped, the page (src/, its Python in src/py), the build script
// and the lock file that chose Pyodide's and viz.js's versions. tests/web_build.py computes the
// same table from the checkout and compares.
function sourceTable() {
  const files = packaged.map(({ name, data }) => [name, data]);
  const page = path.join(here, "src");
  for (const name of fs.readdirSync(page)) {
    const full = path.join(page, name);
    if (fs.statSync(full).isFile()) files.push([`web/src/${name}`, fs.readFileSync(full)]);
  }
  for (const name of fs.readdirSync(path.join(page, "py"))) {
    const full = path.join(page, "py", name);
    if (name.endsWith(".py")) files.push([`web/src/py/${name}`, fs.readFileSync(full)]);
  }
  for (const name of ["build.mjs", "package-lock.json"]) {
    files.push([`web/${name}`, fs.readFileSync(path.join(here, name))]);
  }
  files.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return Object.fromEntries(files.map(([name, data]) => [name, sha256(data)]));
}

const info = {
  pyodide: version("pyodide"),
  viz: version("@viz-js/viz"),
  files: entries.length,
  chainrule_zip_sha256: sha256(archive),
  sources: sourceTable(),
};
fs.writeFileSync(path.join(dist, "build.json"), `${JSON.stringify(info, null, 2)}\n`);
console.log(
  `web build: ${path.relative(root, dist)} (pyodide ${info.pyodide}, viz ${info.viz}, ` +
    `${entries.length} Python files in chainrule.zip, chainrule's player)`,
);
