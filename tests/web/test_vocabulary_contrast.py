"""The stylesheet's text colours reach WCAG AA (4.5:1) on the surfaces they are used on: muted and secondary
text on the page, the cards and the light surfaces muted text sits on (table heads, highlighted rows,
neutral badges). tests/browser/test_every_page_on_a_phone.py checks every text of every page as rendered."""

import re

import pytest

from config.env import BASE_DIR

CSS = (BASE_DIR / "static" / "web" / "vigil.css").read_text()
ROOT = dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?)\b", CSS.split("}", 1)[0]))
SURFACES = ["--card", "--bg", "#fafbfc", "#f7faff", "#fff8f7", "#eceff3"]


def luminance(color: str) -> float:
    if len(color) == 4:  # #fff
        color = "#" + "".join(c * 2 for c in color[1:])
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("text", ["--ink-3", "--ink-2", "--ink"])
@pytest.mark.parametrize("surface", SURFACES)
def test_text_colours_reach_4_5_to_1(text, surface):
    background = ROOT.get(surface, surface)
    assert contrast(ROOT[text], background) >= 4.5, (text, surface)


def test_the_surfaces_are_the_stylesheets_own():
    for surface in SURFACES:
        assert surface in ROOT or surface in CSS, surface
