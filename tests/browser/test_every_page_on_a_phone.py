"""Every page of the web app at a phone's width (390 × 844), for each role: nothing wider than the screen
(a table may scroll inside its own container), no text cut by a hidden overflow, and every piece of text at
WCAG AA contrast against what it is drawn on (4.5:1; 3:1 for large text). The page list is built from
apps.web's URL patterns, so a new page is measured (or this test says which ids it needs).

The data carries what breaks narrow layouts: an unbroken 150-character token in titles and descriptions,
long file names, hashes. Every <details> is opened first, so folded forms are measured too."""

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse

from apps.evidence.services import evidence_add
from apps.response.models import Incident
from apps.tenancy.access import access_for
from apps.tenancy.context import activate
from apps.web import urls
from tests.web.conftest import gdpr_tenant, world  # noqa: F401 - the fixtures, shared with tests/web

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct-horse-battery"
LONG = "https://examp1e.org/" + "payroll-confirm-" * 8 + "x" * 30
ROLES = ["reporter", "handler", "manager", "executive"]

# Measured in the page: what sticks out of the screen (outside a scroll container), what a hidden overflow
# cuts, and text below the contrast threshold (the background composited from the ancestors' colours).
MEASURE = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const doc = document.documentElement, width = doc.clientWidth;
  const classes = el => typeof el.className === 'string' ? el.className.split(/\\s+/).filter(Boolean) : [];
  const name = el => [el.tagName.toLowerCase() + (el.id ? '#' + el.id : ''), ...classes(el)].join('.');
  const hidden = el => el.closest('.visually-hidden, [hidden], svg, option') !== null;
  const scrolls = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  const rgba = text => {
    const m = text.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const [r, g, b, a] = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [r, g, b, a === undefined ? 1 : a];
  };
  const luminance = ([r, g, b]) => {
    const c = [r, g, b].map(v => v / 255).map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
  const background = el => {
    const layers = [];
    for (let p = el; p; p = p.parentElement) {
      const c = rgba(getComputedStyle(p).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    return layers.reduceRight((under, top) => over(top, under), [255, 255, 255, 1]);
  };
  const wide = [], cut = [], faint = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || hidden(el)) continue;
    const style = getComputedStyle(el);
    if (box.right > width + 1 && !scrolls(el) && style.position !== 'fixed') wide.push(name(el));
    if ((style.overflowX === 'hidden' || style.overflowX === 'clip') && el.clientWidth > 1
        && el.scrollWidth > el.clientWidth + 1
        && el.textContent.trim()) cut.push(name(el));
    const ownText = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!ownText || style.visibility === 'hidden' || el.closest('[disabled]')) continue;
    const fg = rgba(style.color);
    if (!fg) continue;
    const bg = background(el);
    const text = over(fg, bg);
    const [hi, lo] = [luminance(text), luminance(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
    const needed = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
    if (ratio < needed) faint.push(`${name(el)} ${ratio.toFixed(2)} "${el.textContent.trim().slice(0, 30)}"`);
  }
  const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (texts.nextNode()) {
    const node = texts.currentNode, el = node.parentElement, range = document.createRange();
    range.selectNodeContents(node);
    const outside = range.getBoundingClientRect().right > width + 1;
    if (node.textContent.trim() && outside && !hidden(el) && !scrolls(node)) {
      wide.push(`${name(el)} "${node.textContent.trim().slice(0, 30)}"`);
    }
  }
  const few = list => list.slice(0, 8);
  return {scrollWidth: doc.scrollWidth, width, wide: few(wide), cut: few(cut), faint: few(faint)};
}"""


@pytest.fixture
def long_world(world, make_member):  # noqa: F811 - the imported fixture
    """The same-tenant world with long unbroken words where people type them, and an executive."""
    manager = world["users"]["manager"]
    world["users"]["executive"] = make_member("executive", world["tenant"])
    with activate(access_for(manager)), transaction.atomic():
        Incident.unscoped.filter(pk=world["incident"].pk).update(
            title=f"Customer list exposed at {LONG}", description=f"Found at {LONG}\n\nby the proxy."
        )
        evidence_add(
            actor=manager,
            access=access_for(manager),
            incident=world["incident"],
            file=ContentFile(b"x" * 2000, name=f"{'proxy-export-' * 6}2026-12-04.log"),
            description=f"Export of {LONG}",
        )
        world["report"].__class__.unscoped.filter(pk=world["report"].pk).update(title=f"Odd mail {LONG}")
    return world


def every_page(data) -> list[str]:
    """Each page apps.web answers GET for, its ids filled in from the data."""
    ids = {
        "report_id": data["report"].pk,
        "incident_id": data["incident"].pk,
        "evidence_id": data["evidence"].pk,
    }
    paths = []
    for pattern in urls.urlpatterns:
        view = pattern.callback.view_class
        if not hasattr(view, "get") or "get" not in view.http_method_names:
            continue
        needed = {name: ids.get(name) for name in pattern.pattern.converters}
        missing = [name for name, value in needed.items() if value is None]
        assert not missing, f"{pattern.name} needs {missing}: add them to every_page()"
        paths.append(reverse(f"web:{pattern.name}", kwargs=needed))
    return paths


def test_no_page_overflows_a_phone_or_loses_contrast(pages, long_world, shot):
    paths = every_page(long_world)
    assert len(paths) >= 20, paths
    failures = []
    for role in ROLES:
        user = long_world["users"][role]
        page = pages.open_as(user.username, PASSWORD, viewport=PHONE)
        for path in paths:
            url = f"{pages.base_url}{path}"
            pages.expect_404(url)  # another role's page: its 403/404 page is measured too
            if page.goto(path).status == 403:
                pages.problems = [p for p in pages.problems if not (p[1] == url and "status of 403" in p[0])]
            found = page.evaluate(MEASURE)
            if found["scrollWidth"] > PHONE["width"] or found["wide"] or found["cut"] or found["faint"]:
                failures.append(f"{role} {path}: {found}")
                shot(page, f"phone-overflow-{role}-{path.strip('/').replace('/', '_') or 'home'}")
    assert not failures, "\n".join(failures)


def test_the_incident_page_keeps_its_evidence_links_on_a_phone(pages, long_world):
    user = long_world["users"]["handler"]
    page = pages.open_as(user.username, PASSWORD, viewport=PHONE)
    page.goto(reverse("web:incident", args=[long_world["incident"].pk]))
    links = page.get_by_test_id("evidence-links").get_by_role("link")
    assert links.count() == 4  # custody and download of each item
    for n in range(links.count()):
        box = links.nth(n).bounding_box()
        assert box["x"] >= 0, box
        assert box["x"] + box["width"] <= PHONE["width"], (links.nth(n).inner_text(), box)
    description = page.locator("#main .prose").bounding_box()
    assert description["x"] + description["width"] <= PHONE["width"]


def test_the_sign_in_page_fits_a_phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    page = context.new_page()
    page.goto("/sign-in/")
    found = page.evaluate(MEASURE)
    context.close()
    assert found["scrollWidth"] <= PHONE["width"], found
    assert found["wide"] == found["cut"] == found["faint"] == [], found
