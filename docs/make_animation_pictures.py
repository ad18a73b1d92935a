"""Make the pictures of `chainrule.animate` committed here (run from the repository root):

    .venv/bin/python docs/make_animation_pictures.py

docs/neuron-backprop.gif   the lecture's neuron, forward then backward, one frame per step
docs/player.png            the HTML player mid-backward (headless Debian chromium, Playwright)
"""

import tempfile
from pathlib import Path

import chainrule
from chainrule.cli.expressions import lecture_neuron

DOCS = Path(__file__).resolve().parent


def main() -> None:
    anim = chainrule.animate(lecture_neuron())
    gif = anim.save(DOCS / "neuron-backprop.gif", duration=1.1, dpi=60)
    print(f"wrote {gif} ({len(anim)} frames: {anim.counts})")

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        page_path = anim.save(Path(folder) / "neuron.html")
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 640}, device_scale_factor=1)
        page.goto(page_path.as_uri())
        for _ in range(anim.counts["forward"] + 6):  # mid-backward: dL/dw1 arrives
            page.get_by_test_id("next").click()
        page.mouse.move(0, 0)
        page.locator(".crp").screenshot(path=str(DOCS / "player.png"), animations="disabled")
        browser.close()
    print(f"wrote {DOCS / 'player.png'}")


if __name__ == "__main__":
    main()
