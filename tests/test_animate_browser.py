"""The player in a real browser: the system's headless Chromium (never a downloaded one),
driven by Playwright.

A saved animation is opened from disk and driven through its controls (data-testid `prev`,
`next`, `play`, `scrubber`, `narration`), the keyboard and the JavaScript API; the narration
at every backward step must be `explain`'s, and the page must log no error.

The tests run wherever a Chromium is installed (web_build.find_chromium) and are skipped, with
the reason in the summary, only where none is; a missing Playwright or Graphviz is a failure.
"""

import json

import pytest
from lecture import lecture_L
from web_build import NO_BROWSER, find_chromium

from chainrule.viz import explain
from chainrule.viz.animate import animate, player_asset

CHROMIUM = find_chromium()
if CHROMIUM is None:
    pytest.skip(NO_BROWSER, allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright import sync_api
    except ImportError:
        pytest.fail(
            "playwright is not installed: pip install -r requirements-dev.txt", pytrace=False
        )
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    page.close()
    assert errors == [], f"the page logged errors: {errors}"


@pytest.fixture(scope="module")
def lecture_page(tmp_path_factory):
    L, _ = lecture_L()
    anim = animate(L)
    path = anim.save(tmp_path_factory.mktemp("player") / "L.html")
    return path, anim, explain(L)


def narration(page):
    return page.get_by_test_id("narration").inner_text()


def box_texts(page, node_id):
    return page.eval_on_selector_all(
        f"svg g[id='{node_id}'] text", "ts => ts.map(t => t.textContent)"
    )


def test_next_to_the_end_shows_explains_steps(page, lecture_page):
    path, anim, ex = lecture_page
    page.goto(path.as_uri())
    shown = [narration(page)]
    for _ in range(len(anim) - 1):
        page.get_by_test_id("next").click()
        shown.append(narration(page))
    assert shown == [f["text"] for f in anim.frames]
    assert shown[7] == "dL/dL = 1.0  (the output itself)"
    assert shown[8:] == [str(step) for step in ex]
    assert any("dL/da = dL/de · de/da = -2.0 · -3.0 = 6.0" in line for line in shown)
    assert page.get_by_test_id("next").is_disabled()
    a = next(n["id"] for n in anim.data["nodes"] if n["name"] == "a")
    assert box_texts(page, a)[-2:] == ["data 2.0000", "grad 6.0000"]
    assert page.get_by_test_id("phase").inner_text().lower() == "backward 7 / 7"


def test_prev_play_scrubber_and_keys(page, lecture_page):
    path, anim, _ = lecture_page
    page.goto(path.as_uri())
    texts = [f["text"] for f in anim.frames]
    assert page.get_by_test_id("prev").is_disabled()
    page.get_by_test_id("next").click()
    page.get_by_test_id("next").click()
    assert narration(page) == texts[2]
    page.get_by_test_id("prev").click()
    assert narration(page) == texts[1]
    # before its frame, a value's box waits: e shows no number yet
    e = next(n["id"] for n in anim.data["nodes"] if n["name"] == "e")
    assert box_texts(page, e)[-2:] == ["data …", "grad …"]
    assert "crp-pending" in page.get_attribute(f"svg g[id='{e}']", "class")

    # play at 4x: frames advance by themselves, pause stops them
    page.get_by_test_id("speed").select_option("4")
    page.get_by_test_id("play").click()
    assert "Pause" in page.get_by_test_id("play").inner_text()
    page.wait_for_function(
        f"() => {json.dumps(texts[4])} === "
        "document.querySelector('[data-testid=narration]').textContent"
    )
    page.get_by_test_id("play").click()
    assert "Play" in page.get_by_test_id("play").inner_text()
    stopped = narration(page)
    page.wait_for_timeout(800)
    assert narration(page) == stopped

    # drag the scrubber to each end (the narration's height changes, so measure it each time)
    def drag(start, end):
        box = page.get_by_test_id("scrubber").bounding_box()
        middle = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + start * box["width"], middle)
        page.mouse.down()
        page.mouse.move(box["x"] + end * box["width"], middle, steps=8)
        page.mouse.up()

    drag(0.5, 1.1)
    assert narration(page) == texts[-1]
    drag(0.99, -0.1)
    assert narration(page) == texts[0]
    drag(0.0, 0.5)
    assert narration(page) == texts[int(page.get_by_test_id("scrubber").input_value())]
    assert 5 <= int(page.get_by_test_id("scrubber").input_value()) <= 8

    # the arrow keys step, Home and End jump
    page.locator(".crp").focus()
    page.keyboard.press("Home")
    assert narration(page) == texts[0]
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert narration(page) == texts[2]
    page.keyboard.press("ArrowLeft")
    assert narration(page) == texts[1]
    page.keyboard.press("End")
    assert narration(page) == texts[-1]
    page.keyboard.press(" ")  # space plays (from the start, at the end)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=narration]').textContent === "
        + json.dumps(texts[1])
    )
    page.keyboard.press(" ")
    assert "Play" in page.get_by_test_id("play").inner_text()


def test_mount_with_only_svg_and_frames_and_two_players_on_a_page(page, lecture_page):
    """What the playground passes: {svg, frames}; and two players sharing node ids."""
    _, anim, _ = lecture_page
    data = anim.player_data()
    page.set_content(
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<style>{player_asset('player.css')}</style>"
        f"<script>{player_asset('player.js')}</script></head>"
        "<body><div id='one'></div><div id='two'></div></body></html>"
    )
    api = page.evaluate(
        """data => {
            const one = ChainrulePlayer.mount(document.getElementById('one'), data);
            const two = ChainrulePlayer.mount(document.getElementById('two'),
                                              {svg: data.svg, frames: data.frames});
            one.goto(12);
            two.goto(2);
            window.players = [one, two];
            return [one.frame, two.frame, one.length, typeof one.play, typeof one.destroy];
        }""",
        data,
    )
    assert api == [12, 2, 14, "function", "function"]
    both = page.get_by_test_id("narration").all_inner_texts()
    assert both == [anim.frames[12]["text"], anim.frames[2]["text"]]
    e = next(n["id"] for n in anim.data["nodes"] if n["name"] == "e")
    c = next(n["id"] for n in anim.data["nodes"] if n["name"] == "c")
    for player, node, want in (
        ("one", e, "grad -2.0000"),
        ("two", e, "grad 0.0000"),
        ("two", c, "data …"),
    ):
        texts = page.eval_on_selector_all(
            f"#{player} svg g[id='{node}'] text", "ts => ts.map(t => t.textContent)"
        )
        assert want in texts
    page.evaluate("() => { window.players[1].play(); window.players[1].pause(); }")
    page.evaluate("() => window.players[0].destroy()")
    assert page.locator("#one .crp").count() == 0 and page.locator("#two .crp").count() == 1


def test_two_notebook_outputs_play_side_by_side(page, lecture_page):
    """`_repr_html_` twice on one page, as two cells of a notebook show it."""
    _, anim, _ = lecture_page
    page.set_content(
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
        f"{anim._repr_html_()}{anim._repr_html_()}</body></html>"
    )
    assert page.get_by_test_id("narration").all_inner_texts() == [anim.frames[0]["text"]] * 2
    page.get_by_test_id("next").nth(1).click()
    page.get_by_test_id("next").nth(1).click()
    assert page.get_by_test_id("narration").all_inner_texts() == [
        anim.frames[0]["text"],
        anim.frames[2]["text"],
    ]
