"""Every page fits a phone's width (390 px, an iPhone 12-15) and a desktop's (1440 px).

Nothing may make the page itself scroll sideways: panels stack, and what cannot shrink (the
graph, wide tables, formulas) scrolls inside its own box.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PAGES = {
    "/?preset=add_mul": "#graph-canvas .node",
    "/?preset=iris_mlp": "#graph-canvas .node",
    "/cnn": "#stack-maps canvas",
    "/learn": "body[data-ready='true'] #gradcheck-table tbody tr",
}


@pytest.mark.parametrize("width", [390, 1440])
@pytest.mark.parametrize("path", list(PAGES))
def test_page_never_scrolls_sideways(page, path, width):
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(path)
    page.wait_for_selector(PAGES[path])
    page.wait_for_timeout(300)  # a late layout pass (fonts, the graph's frame)

    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= width
    # Every panel starts and ends inside the window.
    outside = page.evaluate(
        """width => [...document.querySelectorAll('section, aside, header, .toolbar')]
          .filter(e => e.offsetParent !== null)
          .filter(e => {
            const box = e.getBoundingClientRect();
            return box.left < 0 || box.right > width;
          })
          .map(e => e.id || e.className)""",
        width,
    )
    assert outside == []
