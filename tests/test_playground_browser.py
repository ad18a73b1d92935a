"""The playground in a real browser: the system's Chromium, headless, driven by Playwright, on
the app built into web/dist (`make web`) and served by `chainrule playground --no-browser`.

The tests run wherever a Chromium is installed (web_build.find_chromium) and are skipped, with
the reason in the summary, only where none is. A missing Playwright or an unbuilt web/dist is
a failure, and so is a web/dist built from other sources than this checkout (build.json's
hashes against the files now): the tests never run an older build than the code beside them.

One server, one browser and one page serve the whole module, since Pyodide takes seconds to
start; each test opens what it needs on that page (a link, a tab), so they pass in any order,
and waits on the page's own signals (`body[data-ready]`, element states), never on sleeps.
Every request that would leave 127.0.0.1 is aborted and recorded; the page's boot and then
every test, whatever the order, fail if one was made or if the page logged an error in it.
tests/screenshots/ (git-ignored) is emptied when the page opens, and each screenshot is checked
where it is taken; the measured boot time and training speed go to its metrics.json.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import baselines
import pytest
from web_build import NO_BROWSER, find_chromium, stale_dist

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = find_chromium()
SHOTS = ROOT / "tests" / "screenshots"
LECTURE = "a = 2; b = -3; c = 10; f = -2; e = a*b; d = e + c; L = d*f"
BOOT_LIMIT_S = 15.0  # the target: interactive within 15 s
WAIT_MS = 60_000  # the longest any single wait may take
# The moons run the issue asks for: 2-16-16-1 (ReLU), full batch; reaches 95% within 100 steps.
MOONS = "tab=train&dataset=moons&layers=16,16&activation=relu&lr=0.5&loss=hinge&batch=0&seed=1"
# The playground's default network, 2-4-2-1 (tanh): one point's graph is small enough to draw.
SMALL = "tab=train&dataset=moons&layers=4,2&activation=tanh&lr=1&loss=hinge&batch=0&seed=1"
# The browser is slower than native CPython (WebAssembly, and another Python), but not without
# bound: measured at 0.4 to 0.8 of native speed; below a quarter, something is wrong.
BROWSER_SPEED_FLOOR = 0.25

if CHROMIUM is None:
    pytest.skip(NO_BROWSER, allow_module_level=True)

# Playwright is a development requirement: without it the tests fail (in the fixture), they
# are not skipped.
try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    expect = sync_playwright = None

metrics: dict[str, object] = {}


def by(page, testid: str):
    return page.get_by_test_id(testid)


@pytest.fixture(scope="module")
def dist() -> None:
    """web/dist, built from this checkout as it is now; else every test fails, saying why."""
    why = stale_dist()
    if why is not None:
        pytest.fail(why, pytrace=False)


@pytest.fixture(scope="module")
def server(dist):
    """`chainrule playground --no-browser --port 0`, stopped when the module is done."""
    process = subprocess.Popen(
        [sys.executable, "-m", "chainrule", "playground", "--no-browser", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout:
            match = re.search(r"http://127\.0\.0\.1:\d+/", line)
            if match and not found:
                found.append(match.group(0))
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(30) and found, "chainrule playground did not print its URL in 30 s"
        yield found[0]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if sync_playwright is None:
        pytest.fail(
            "playwright is not installed: pip install -r requirements-dev.txt", pytrace=False
        )
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # root in CI needs --no-sandbox; the resolver rule makes any name but the loopback
            # unresolvable, a second guard behind the request routing below.
            args=["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


class Watch:
    """What the page did that it must not: console errors, uncaught errors, outside requests."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []


@pytest.fixture(scope="module")
def watch():
    return Watch()


def _local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob") or parts.hostname == "127.0.0.1"


@pytest.fixture(scope="module")
def page(browser, server, watch):
    context = browser.new_context(viewport={"width": 1320, "height": 1000})
    context.set_default_timeout(WAIT_MS)

    def route(r) -> None:
        if _local(r.request.url):
            r.continue_()
        else:
            watch.outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    context.on("request", lambda r: None if _local(r.url) else watch.outside.append(r.url))
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and watch.errors.append(m.text))
    page.on("pageerror", lambda e: watch.errors.append(f"uncaught: {e}"))
    shutil.rmtree(SHOTS, ignore_errors=True)  # no screenshot of an earlier run is left to pass
    SHOTS.mkdir()
    started = time.perf_counter()
    page.goto(server + "#tab=expression&expr=" + quote(LECTURE))
    _wait_ready(page)
    assert watch.outside == [] and watch.errors == [], vars(watch)  # a clean boot
    metrics["boot_s"] = round(time.perf_counter() - started, 2)
    metrics["pyodide_boot_ms_exact"] = page.evaluate("window.playground.bootMs")
    metrics["pyodide_boot_ms"] = round(metrics["pyodide_boot_ms_exact"])
    yield page
    shown = {k: v for k, v in metrics.items() if not k.endswith("_exact")}
    (SHOTS / "metrics.json").write_text(json.dumps(shown, indent=2) + "\n", encoding="utf-8")
    context.close()


@pytest.fixture(autouse=True)
def page_stays_clean(page, watch):
    """After each test, whatever ran before it: no request left 127.0.0.1 and the page logged
    no error while the test ran."""
    outside, errors = len(watch.outside), len(watch.errors)
    yield
    assert watch.outside[outside:] == [], "requests outside 127.0.0.1 during this test"
    assert watch.errors[errors:] == [], "the page logged errors during this test"


def _shoot(page, name: str) -> None:
    """A full-page screenshot into SHOTS, checked at once: a PNG of the page, not an empty one."""
    path = SHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, (path, len(data))


def _wait_ready(page) -> None:
    page.wait_for_selector("body[data-ready=true], body[data-ready=error]", timeout=WAIT_MS)
    assert page.get_attribute("body", "data-ready") == "true", by(page, "status").inner_text()


def _open_link(page, server: str, fragment: str) -> None:
    """Open a playground link in the same tab: the page takes its state, Python stays up.
    Returns once the page has taken the link (its `hashchange` handler has run), so what a
    test reads next is the link's state, not the one before it."""
    if page.evaluate("location.hash.slice(1)") != fragment:
        links = page.evaluate("window.playground.links")
        page.goto(f"{server}#{fragment}")
        page.wait_for_function(f"window.playground.links > {links}")
    assert page.evaluate("window.playground.bootMs") == metrics["pyodide_boot_ms_exact"]


def _run(page, source: str) -> None:
    by(page, "tab-expression").click()
    by(page, "expression").fill(source)
    by(page, "run").click()
    expect(by(page, "run")).to_be_enabled()


# -- loading ------------------------------------------------------------------------------------


def test_python_starts_within_the_target(page):
    assert metrics["boot_s"] < BOOT_LIMIT_S, metrics
    assert "chainrule" in by(page, "versions").inner_text()


# -- the Expression tab -------------------------------------------------------------------------


def test_lecture_L_steps_backward_to_dL_da_6(page):
    _run(page, LECTURE)
    graph = by(page, "graph")
    expect(graph.locator("svg").first).to_be_visible()
    expect(graph).to_contain_text("data -8.0000")
    step, narration = by(page, "next"), by(page, "narration")
    lines = []
    for _ in range(50):
        if step.is_disabled():
            break
        step.click()
        lines.append(narration.inner_text())
        if lines[-1].startswith("dL/da"):  # the lecture's moment, for the README
            _shoot(page, "expression")
    assert step.is_disabled(), "the step button stays enabled at the end"
    assert (SHOTS / "expression.png").is_file(), "no step showed dL/da"
    assert any(re.search(r"dL/da = .*= 6\.0\b", line) for line in lines), lines
    assert len(lines) >= 6
    expect(graph).to_contain_text("grad 6.0000")


def test_the_expression_is_in_the_url(page):
    _run(page, "p = 3; q = p*p")
    assert parse_qs(urlsplit(page.url).fragment)["expr"] == ["p = 3; q = p*p"]


@pytest.mark.parametrize(
    "source, words, caret",
    [
        ("a = 2; L = a * (", "syntax error", None),
        ("a = 2; L = a*q", "unknown name 'q'", 14),
        ("a = 2; L = a.real", "attribute access is not allowed", 12),
        ("a = 1e300; L = a*a*a", "too large for a float", None),
        ("L = " + "+".join(["a"] * 400) + "; a = 1", "more than the 300", None),
    ],
)
def test_a_broken_expression_shows_an_error_and_the_page_recovers(page, source, words, caret):
    _run(page, source)
    error = by(page, "error")
    expect(error).to_be_visible()
    expect(error).to_contain_text(words)
    if caret is not None:
        expect(error).to_contain_text(f"column {caret}")
        mark = by(page, "error-caret").inner_text().splitlines()[-1]
        assert mark.index("^") == caret - 1
    _run(page, "x = 3; y = x*x + 1")
    expect(error).to_be_hidden()
    expect(by(page, "graph")).to_contain_text("data 10.0000")


def test_a_link_reproduces_the_expression(page, server):
    source = "u = 0.5; v = -2; w = tanh(u*v) + u"
    _open_link(page, server, "tab=expression&expr=" + quote(source, safe=""))
    expect(by(page, "expression")).to_have_value(source)
    expect(by(page, "graph")).to_contain_text("tanh")
    expect(by(page, "graph")).to_contain_text("data -1.0000")  # u*v
    expect(by(page, "next")).to_be_enabled()


def test_the_expression_tab_has_one_step_control(page):
    """The player's Prev / Play / Next step the backward pass; no second stepper beside it."""
    _run(page, LECTURE)
    panel = page.locator("#expression")
    assert by(page, "step").count() == 0
    assert (
        panel.get_by_role("button", name=re.compile("backward step|start over", re.I)).count() == 0
    )
    for control in ("prev", "play", "next"):
        expect(by(page, control)).to_have_count(1)
    before = page.evaluate("window.playground.Expression.player.frame")
    by(page, "next").click()
    assert page.evaluate("window.playground.Expression.player.frame") == before + 1
    expect(by(page, "phase")).to_contain_text("backward")


def test_a_bad_expression_marks_the_old_graph_stale(page):
    """After an error the last graph is not the answer to the text above it: it is dimmed and
    said to be stale, until a program runs again."""
    _run(page, LECTURE)
    graph, note = by(page, "graph"), by(page, "graph-stale")
    expect(note).to_be_hidden()
    _run(page, "a = 2; L = a*q")
    expect(by(page, "error")).to_be_visible()
    expect(note).to_be_visible()
    expect(note).to_contain_text("not of the text above")
    expect(graph).to_have_class(re.compile(r"\bstale\b"))
    assert float(graph.evaluate("(el) => getComputedStyle(el).opacity")) < 0.5
    _run(page, "x = 3; y = x*x + 1")
    expect(note).to_be_hidden()
    expect(graph).not_to_have_class(re.compile(r"\bstale\b"))
    expect(graph).to_contain_text("data 10.0000")


def test_the_micrograd_readme_example_gives_g_24_7041(page):
    by(page, "tab-expression").click()
    page.get_by_role("link", name="micrograd's README").click()
    expect(by(page, "run")).to_be_enabled()
    expect(by(page, "error")).to_be_hidden()
    graph = by(page, "graph")
    expect(graph).to_contain_text("data 24.7041")
    page.evaluate("window.playground.Expression.player.goto(1e9)")  # the end of the backward pass
    expect(graph).to_contain_text("grad 138.8338")  # dg/da
    expect(graph).to_contain_text("grad 645.5773")  # dg/db


def test_the_play_controls_are_drawn_without_font_glyphs(page):
    """Every control of the players (the Expression tab's and the Train tab's) says what it does
    in plain text or with an inline SVG icon: no symbol that needs a font of its own (the
    pause sign U+23F8 shows as a box on many a plain Linux desktop)."""
    _run(page, LECTURE)
    by(page, "play").click()  # playing: the button shows the pause icon
    expect(by(page, "play")).to_contain_text("Pause")
    texts = page.locator(".crp-controls button").evaluate_all(
        "(bs) => bs.map((b) => [b.textContent, b.querySelectorAll('svg').length])"
    )
    by(page, "play").click()
    by(page, "tab-train").click()
    expect(by(page, "train-step")).to_be_visible()
    by(page, "train-start").click()
    expect(by(page, "train-start")).to_have_attribute("aria-label", "Pause")
    texts += page.locator(".train-bar button").evaluate_all(
        "(bs) => bs.map((b) => [b.textContent, b.querySelectorAll('svg').length])"
    )
    by(page, "train-start").click()
    expect(by(page, "train-start")).to_have_attribute("aria-label", "Play")
    texts += page.locator(".train-bar button, .crp-controls button").evaluate_all(
        "(bs) => bs.map((b) => [b.textContent, b.querySelectorAll('svg').length])"
    )
    for text, _ in texts:
        assert all(" " <= ch <= "~" for ch in text), f"a glyph outside ASCII: {text!r}"
    assert sum(icons for _, icons in texts) >= 6  # prev, play/pause, next, reset, play/pause
    by(page, "train-reset").click()
    expect(by(page, "train-step")).to_have_text("0")


def test_a_big_graph_can_be_zoomed_and_panned(page):
    """A network's point graph is unreadable at the page's width: zoom in, drag to pan, fit."""
    by(page, "tab-train").click()
    page.wait_for_function("window.playground.Train.last && window.playground.Train.last.picture")
    point = _train_state(page)["train"]["X"][1]
    by(page, "boundary").click(position=_pixel(page, point))
    expect(page.locator("#expression")).to_be_visible()
    expect(by(page, "run")).to_be_enabled()
    graph = by(page, "graph")
    svg, stage = graph.locator(".crp-stage svg"), graph.locator(".crp-stage")
    expect(svg).to_be_visible()
    expect(by(page, "zoom-level")).to_have_text("fit")
    fit = svg.bounding_box()["width"]
    width = stage.evaluate("(el) => el.clientWidth")
    assert fit <= width + 1
    for _ in range(4):
        by(page, "zoom-in").click()
    zoomed = svg.bounding_box()["width"]
    assert zoomed > 1.5 * width, (zoomed, width)
    assert stage.evaluate("(el) => el.scrollWidth > el.clientWidth")
    assert by(page, "zoom-level").inner_text().endswith("%")
    box = stage.bounding_box()
    left = stage.evaluate("(el) => el.scrollLeft")
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    assert stage.evaluate("(el) => el.scrollLeft") > left + 100  # dragged left: panned right
    by(page, "zoom-fit").click()
    assert svg.bounding_box()["width"] <= width + 1
    expect(by(page, "zoom-level")).to_have_text("fit")


# -- the Neuron tab -----------------------------------------------------------------------------


def test_neuron_sliders_update_the_output_and_every_grad(page):
    by(page, "tab-neuron").click()
    output = by(page, "neuron-output")
    expect(output).to_have_text("0.7071")
    grads = by(page, "neuron-grads")
    expect(grads.locator("tr[data-node=w1] td").nth(2)).to_have_text("1.0000")
    expect(grads.locator("tr[data-node=x1] td").nth(2)).to_have_text("-1.5000")
    expect(by(page, "neuron-graph").locator("svg")).to_be_visible()
    _shoot(page, "neuron")
    slider = by(page, "neuron-w1")
    slider.evaluate("(el) => { el.value = '-2'; el.dispatchEvent(new Event('input')); }")
    # o = tanh(2*-2 + 0 + 6.8814) = tanh(2.8814) = 0.9937; do/dw1 = x1 * (1 - o**2) = 0.0250
    expect(output).to_have_text("0.9937")
    expect(grads.locator("tr[data-node=w1] td").nth(2)).to_have_text("0.0250")
    assert "n_w1=-2" in urlsplit(page.url).fragment


# -- the Train tab ------------------------------------------------------------------------------


def _train_state(page) -> dict:
    return page.evaluate("window.playground.Train.last")


def _train_tab(page) -> None:
    """Open the Train tab and wait until its model is built and drawn (the first visit builds
    it), so a test that starts here needs no earlier test to have opened it."""
    by(page, "tab-train").click()
    page.wait_for_function(
        "window.playground.Train.last && window.playground.Train.last.picture"
        " && !window.playground.Train.busy"
    )


def test_train_tab_offers_the_datasets_and_draws_the_plane(page):
    _train_tab(page)
    values = by(page, "dataset").locator("option").evaluate_all("(os) => os.map((o) => o.value)")
    assert values == ["moons", "circles", "xor", "spirals", "blobs"]
    maps = page.locator("[data-testid^=neuron-map-]").count()
    assert maps == sum(_train_state(page)["config"]["layers"])


def _edges(page) -> list[dict]:
    return (
        by(page, "network-edges")
        .locator("path.edge")
        .evaluate_all(
            """(ps) => ps.map((p) => ({id: p.dataset.testid, k: +p.dataset.k, m: +p.dataset.m,
            i: +p.dataset.i, stroke: p.getAttribute('stroke'),
            width: +p.getAttribute('stroke-width'), span: p.getBBox().width}))"""
        )
    )


def test_the_network_is_drawn_with_a_line_per_weight(page):
    """As TensorFlow Playground draws it: inputs, hidden neurons and outputs joined by a line
    per weight, blue where positive and orange where negative, thicker where larger; the
    lines follow training; hovering one shows its weight and gradient."""
    by(page, "tab-train").click()
    page.wait_for_function("window.playground.Train.last && window.playground.Train.last.picture")
    state = _train_state(page)
    weights = state["network"]["weights"]
    assert state["config"]["layers"] == [4, 2] and state["config"]["features"] == ["x1", "x2"]
    edges = _edges(page)
    assert len(edges) == 2 * 4 + 4 * 2 + 2 * 1
    for edge in edges:
        w = weights[edge["k"] - 1][edge["m"] - 1]["w"][edge["i"] - 1]
        assert edge["stroke"] == ("#0877bd" if w >= 0 else "#f59322"), (edge, w)
        assert edge["span"] > 20  # a line from one column to the next
    by_size = sorted(edges, key=lambda e: abs(weights[e["k"] - 1][e["m"] - 1]["w"][e["i"] - 1]))
    assert by_size[0]["width"] < by_size[-1]["width"]
    # an edge ends where its neuron is: the box of h1_1 on the left of the first layer's lines
    node = by(page, "neuron-map-1-1").bounding_box()
    end = page.locator("[data-testid=edge-1-1-1]").evaluate(
        """(p) => {
            const e = p.getPointAtLength(p.getTotalLength());
            const r = p.ownerSVGElement.getBoundingClientRect();
            return [r.left + e.x, r.top + e.y];
        }"""
    )
    assert abs(end[0] - node["x"]) < 2 and abs(end[1] - (node["y"] + node["height"] / 2)) < 2
    # training moves the weights, and the lines follow
    by(page, "train-next").click()
    expect(by(page, "train-step")).to_have_text("1")
    page.wait_for_function("window.playground.Train.last.network.grads_step === 1")
    after = {e["id"]: e["width"] for e in _edges(page)}
    assert after != {e["id"]: e["width"] for e in edges}
    # hover: the weight and its gradient, the numbers of the state
    target = page.locator("[data-edge='2-1-3']")
    box = target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tip = by(page, "edge-tooltip")
    expect(tip).to_be_visible()
    shown = tip.get_attribute("data-edge")
    k, m, i = map(int, shown.split("-"))
    state = _train_state(page)
    w = state["network"]["weights"][k - 1][m - 1]["w"][i - 1]
    g = state["network"]["grads"][k - 1][m - 1]["w"][i - 1]
    expect(tip).to_contain_text(f"w{k}_{m}_{i}")
    expect(tip).to_contain_text(f"weight {w:.4f}")
    expect(tip).to_contain_text(f"gradient dL/dw{k}_{m}_{i} {g:.4f}")
    page.mouse.move(5, 5)
    expect(tip).to_be_hidden()


def test_a_click_on_a_neuron_opens_its_forward_and_backward_pass(page):
    by(page, "tab-train").click()
    by(page, "neuron-map-2-1").click()
    expect(page.locator("#expression")).to_be_visible()
    expect(by(page, "run")).to_be_enabled()
    assert by(page, "expression").input_value().startswith("# h2_1: layer 2, neuron 1")
    expect(by(page, "error")).to_be_hidden()
    graph = by(page, "graph")
    expect(graph.locator(".crp-stage svg")).to_be_visible()
    expect(graph).to_contain_text("h2_1")
    expect(graph).to_contain_text("w1_4_2")  # every neuron that feeds it, down to the inputs
    assert "h2_2" not in graph.inner_text()
    page.evaluate("window.playground.Expression.player.goto(1e9)")
    expect(by(page, "narration")).to_contain_text("dh2_1/d")
    by(page, "tab-train").click()
    by(page, "network-output-1").click()
    expect(by(page, "graph")).to_contain_text("out")
    assert by(page, "expression").input_value().startswith("# out: layer 3, neuron 1")


def _pixel(page, point: list[float]) -> dict:
    box = by(page, "boundary").bounding_box()
    span = _train_state(page)["picture"]["span"]
    return {
        "x": (point[0] + span) / (2 * span) * box["width"],
        "y": (span - point[1]) / (2 * span) * box["height"],
    }


def test_a_click_on_empty_plane_adds_a_point(page):
    _train_tab(page)
    state = _train_state(page)
    points = state["train"]["X"] + state["test"]["X"]
    spot = next(
        [x, y]
        for x in (-1.2, 1.2, -1.0, 1.0, 0.0)
        for y in (1.2, -1.2, 1.0, -1.0)
        if all(abs(x - p[0]) + abs(y - p[1]) > 0.25 for p in points)
    )
    before = len(state["train"]["y"])
    by(page, "train-add-class").select_option("1")
    by(page, "boundary").click(position=_pixel(page, spot))
    page.wait_for_function(f"window.playground.Train.last.train.y.length === {before + 1}")
    assert _train_state(page)["train"]["y"][-1] == 1


def test_a_click_on_a_point_opens_its_graph_in_the_expression_tab(page, server):
    _open_link(page, server, SMALL)  # a graph small enough to draw, whatever ran before
    _train_tab(page)
    steps = _train_state(page)["steps"]
    by(page, "train-next").click()
    expect(by(page, "train-step")).to_have_text(str(steps + 1))
    point = _train_state(page)["train"]["X"][0]
    by(page, "boundary").click(position=_pixel(page, point))
    expect(page.locator("#expression")).to_be_visible()
    expect(by(page, "run")).to_be_enabled()
    assert by(page, "expression").input_value().startswith("x1 = ")
    expect(by(page, "error")).to_be_hidden()
    graph = by(page, "graph")
    expect(graph.locator(".crp-stage svg")).to_be_visible()
    expect(graph).to_contain_text("w1_1_1")
    expect(graph).to_contain_text("L")
    expect(by(page, "next")).to_be_enabled()


def test_the_learned_nothing_advice_clears_once_the_network_learns(page, server):
    """xor at learning rate 0.3 answers at chance for its first ~200 steps, then learns: the
    advice shows, in the page's words with a button for the page's control, and goes."""
    _open_link(page, server, "tab=train&dataset=xor&lr=0.3")
    page.wait_for_function("window.playground.Train.last?.steps === 0")
    advice = by(page, "train-advice")
    expect(advice).to_be_hidden()
    by(page, "train-start").click()
    expect(advice).to_be_visible()
    expect(advice).to_contain_text("the network has learned nothing")
    expect(by(page, "train-try-1")).to_have_text("raise the learning rate to 3")
    assert "lr=" not in advice.inner_text() and "optimizer" not in advice.inner_text()
    page.wait_for_function(
        "Number(document.querySelector('[data-testid=train-step]').textContent) >= 400",
        timeout=WAIT_MS * 2,
    )
    by(page, "train-start").click()
    page.wait_for_function("!window.playground.Train.busy && !window.playground.Train.playing")
    assert float(by(page, "train-accuracy").inner_text().rstrip("%")) > 85
    expect(advice).to_be_hidden()


def test_a_diverging_run_is_said_plainly_with_a_lower_learning_rate_to_apply(page, server):
    _open_link(page, server, "tab=train&dataset=moons&lr=3&activation=linear")
    page.wait_for_function("window.playground.Train.last?.steps === 0")
    by(page, "train-start").click()
    advice = by(page, "train-advice")
    expect(advice).to_be_visible()
    expect(advice).to_have_attribute("data-kind", "diverged")
    # "diverged at step N: the loss became infinite" or "the loss grew from a to b in N steps",
    # whichever the chunk that ends the run sees first (chunks follow the machine's speed)
    expect(advice).to_contain_text(re.compile(r"Training diverged(:| at step \d+)"))
    expect(advice).to_contain_text("The learning rate 3 makes each step too large")
    expect(by(page, "train-start")).to_have_attribute("aria-label", "Play")  # it stopped
    page.wait_for_function("!window.playground.Train.busy")
    for stat in ("train-loss", "train-test-loss", "train-accuracy"):
        assert "nan" not in by(page, stat).inner_text().lower()
    button = by(page, "train-try-1")
    expect(button).to_have_text("lower the learning rate to 0.3")
    button.click()
    expect(by(page, "train-lr")).to_have_value("0.3")
    assert "lr=0.3" in urlsplit(page.url).fragment
    expect(by(page, "train-step")).to_have_text("0")
    expect(advice).to_be_hidden()
    by(page, "train-start").click()
    page.wait_for_function(
        "Number(document.querySelector('[data-testid=train-step]').textContent) >= 60"
    )
    by(page, "train-start").click()
    page.wait_for_function("!window.playground.Train.busy && !window.playground.Train.playing")
    expect(advice).to_be_hidden()


def test_blobs_train_with_cross_entropy_on_three_classes(page):
    _train_tab(page)
    by(page, "dataset").select_option("blobs")
    expect(by(page, "train-loss-fn")).to_have_value("cross_entropy")
    expect(by(page, "train-add-class").locator("option")).to_have_count(3)
    by(page, "train-next").click()
    expect(by(page, "train-step")).to_have_text("1")
    assert "dataset=blobs" in urlsplit(page.url).fragment
    colours = page.evaluate("window.playground.Train.last.picture.scores[0].length")
    assert colours == 3  # one score per class at every point of the plane


def test_moons_training_reaches_100_steps_and_95_percent(page, server):
    _open_link(page, server, MOONS)
    expect(by(page, "dataset")).to_have_value("moons")
    expect(by(page, "train-activation")).to_have_value("relu")
    page.wait_for_function(
        "window.playground.Train.last"
        " && window.playground.Train.last.config.layers.join() === '16,16'"
        " && window.playground.Train.last?.steps === 0"
    )
    started = time.perf_counter()
    by(page, "train-start").click()
    page.wait_for_function(
        "Number(document.querySelector('[data-testid=train-step]').textContent) >= 100",
        timeout=WAIT_MS * 2,
    )
    by(page, "train-start").click()  # pause
    elapsed = time.perf_counter() - started
    page.wait_for_function("!window.playground.Train.busy")
    state = _train_state(page)
    accuracy = float(by(page, "train-accuracy").inner_text().rstrip("%"))
    metrics["moons_steps"] = state["steps"]
    metrics["moons_accuracy_percent"] = accuracy
    metrics["moons_steps_per_s_training_only"] = round(state["steps"] / state["seconds"], 1)
    metrics["moons_steps_per_s_on_the_page"] = round(state["steps"] / elapsed, 1)
    assert state["steps"] >= 100
    # 95% takes a curve: a straight line through the same points scores about 89% (always
    # one class about 51%)
    X, y = state["train"]["X"], state["train"]["y"]
    linear = 100 * baselines.linear_accuracy(X, y)
    metrics["moons_linear_baseline_percent"] = round(linear, 1)
    assert 95.0 > linear + 5 and linear > 100 * baselines.majority_accuracy(y, y)
    assert accuracy >= 95.0, state["curves"]["train_accuracy"][-3:]
    page.wait_for_function("window.playground.Train.last.picture")
    _shoot(page, "train")


def test_training_speed_in_the_browser_against_native_python(page):
    """micrograd's moons loop, 2-16-16-1 full batch, via chainrule.learn.fit in both."""
    steps = 30
    browser = page.evaluate(f"window.playground.call('benchmark', {{steps: {steps}}})")
    native = subprocess.run(
        [sys.executable, "-c", _NATIVE_BENCHMARK, str(ROOT / "web" / "src" / "py"), str(steps)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert native.returncode == 0, native.stderr
    native = json.loads(native.stdout)
    metrics["benchmark_steps_per_s_browser"] = round(browser["steps_per_s"], 1)
    metrics["benchmark_steps_per_s_native"] = round(native["steps_per_s"], 1)
    metrics["benchmark_python_browser"] = browser["python"]
    metrics["benchmark_python_native"] = native["python"]
    ratio = browser["steps_per_s"] / native["steps_per_s"]
    metrics["benchmark_browser_over_native"] = round(ratio, 2)
    # the same run on both sides: the same steps from the same weights reach the same accuracy
    assert browser["steps"] == native["steps"] == steps
    assert browser["accuracy"] == native["accuracy"], (browser, native)
    assert browser["steps_per_s"] >= 5.0, metrics  # the target
    assert ratio >= BROWSER_SPEED_FLOOR, metrics


_NATIVE_BENCHMARK = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("chainrule_web", sys.argv[1] + "/chainrule_web.py")
web = importlib.util.module_from_spec(spec)
spec.loader.exec_module(web)
print(web.benchmark(int(sys.argv[2])))
"""


def test_export_gives_a_model_file_and_a_script(page, server):
    _open_link(page, server, MOONS)  # a 2-16-16-1 network, whatever ran before
    _train_tab(page)
    by(page, "train-export").click()
    link = by(page, "export-model")
    expect(link).to_be_visible()
    text = page.evaluate("(href) => fetch(href).then((r) => r.text())", link.get_attribute("href"))
    document = json.loads(text)
    assert document["format"] == "chainrule.model"
    assert document["config"]["nouts"] == [16, 16, 1]
    script = by(page, "export-script").get_attribute("href")
    assert "io.load" in page.evaluate("(href) => fetch(href).then((r) => r.text())", script)


def _download(page, testid: str) -> str:
    href = by(page, testid).get_attribute("href")
    return page.evaluate("(href) => fetch(href).then((r) => r.text())", href)


def test_features_feed_the_network_and_the_exported_model_scores_as_the_page(
    page, server, tmp_path
):
    """Circles with x1² and x2² only (chosen on the page, as in TensorFlow Playground), trained,
    exported; then `chainrule eval model.json` with no data flags, and the exported predict.py,
    report the very accuracy the page shows."""
    _open_link(page, server, "tab=train&dataset=circles&layers=2&lr=0.3&seed=5")
    page.wait_for_function("window.playground.Train.last?.steps === 0")
    for name in ("x1_sq", "x2_sq", "x1", "x2"):
        by(page, f"feature-{name}").click()
        page.wait_for_function(
            f"window.playground.Train.last.config.features.includes('{name}') === "
            f"{'true' if name.endswith('_sq') else 'false'}"
        )
    expect(by(page, "feature-x1_sq")).to_have_attribute("aria-pressed", "true")
    expect(by(page, "feature-x1")).to_have_attribute("aria-pressed", "false")
    assert "features=x1_sq%2Cx2_sq" in urlsplit(page.url).fragment
    assert _train_state(page)["config"]["features"] == ["x1_sq", "x2_sq"]
    assert page.locator("[data-testid^=edge-1-]").count() == 2 * 2  # two features, two neurons
    by(page, "train-start").click()
    page.wait_for_function(
        "Number(document.querySelector('[data-testid=train-step]').textContent) >= 120"
    )
    by(page, "train-start").click()
    page.wait_for_function("!window.playground.Train.busy && !window.playground.Train.playing")
    train, test = (
        by(page, "train-accuracy").inner_text(),
        by(page, "train-test-accuracy").inner_text(),
    )
    assert float(train.rstrip("%")) > 90
    by(page, "train-export").click()
    expect(by(page, "export-note")).to_contain_text(f"train accuracy {train}")
    document = json.loads(_download(page, "export-model"))
    assert document["metadata"]["inputs"]["features"] == ["x1_sq", "x2_sq"]
    assert document["config"]["nin"] == 2
    (tmp_path / "model.json").write_text(json.dumps(document), encoding="utf-8")
    (tmp_path / "predict.py").write_text(_download(page, "export-script"), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "chainrule", "eval", "model.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"train      accuracy {train}," in done.stdout, (train, done.stdout)
    assert f"held-out   accuracy {test}," in done.stdout, (test, done.stdout)
    script = subprocess.run(
        [sys.executable, "predict.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert script.returncode == 0, script.stderr
    assert f"train      accuracy {train}," in script.stdout
    assert f"held-out   accuracy {test}," in script.stdout
    page.screenshot(path=SHOTS / "features.png", full_page=True)


# -- what must never happen ----------------------------------------------------------------------


def test_the_watch_catches_outside_requests_and_errors(page, watch):
    """The checks after every test are only as good as the watch: an outside request and a
    logged error, made on purpose, are caught (and then forgiven, being this test's own)."""
    outside, errors = len(watch.outside), len(watch.errors)
    page.evaluate(
        "() => fetch('http://example.com/chainrule-test').then(() => 'reached', () => 'blocked')"
    )
    with page.expect_console_message(lambda m: "deliberate" in m.text):
        page.evaluate("() => console.error('chainrule test: a deliberate error')")
    assert any(u.startswith("http://example.com/") for u in watch.outside[outside:])
    assert "chainrule test: a deliberate error" in watch.errors[errors:]
    del watch.outside[outside:], watch.errors[errors:]


def test_web_dist_was_built_from_this_checkout(dist):
    """What the other tests rely on, as a test of its own: web/dist holds the package and the
    page as they are in this checkout (the dist fixture fails otherwise)."""
    assert stale_dist() is None
