"""Markdown from issues and incident files to safe HTML.

python-markdown renders, nh3 sanitizes (an allow-list: no script, no style, no
event handler, only http/https/mailto links). Images become links: an <img>
pointing at another host would make the page request it, and the site
promises zero requests to other hosts. Secret values are masked first.
"""

from __future__ import annotations

import html as _html
import re
import xml.etree.ElementTree as etree
from functools import lru_cache

import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

from generator.secrets import mask

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "details", "dd", "dl", "dt", "em", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# Tags nh3 removes while keeping what is inside them. Any other tag is shown as text: raw-text
# elements (<style>, <script>, <textarea>, <title>, <xmp>, <plaintext>, <svg>, <math>, ...) left open
# made the parser swallow the rest of an incident body.
_UNWRAPPED = {
    "div", "span", "img", "center", "font", "u", "ins", "mark", "small", "big", "section", "article", "header",
    "footer", "aside", "main", "nav", "figure", "figcaption", "caption", "cite", "q", "var", "samp", "tt", "dfn",
    "tfoot", "colgroup", "col", "picture", "source", "label", "address", "bdi", "bdo", "time", "data", "wbr",
}  # fmt: skip
_TAG = re.compile(r"<(?=[?!](?!--))|<(/?\s*)([A-Za-z][A-Za-z0-9-]*)")


def _shown_as_text(match: re.Match[str]) -> str:
    name = (match.group(2) or "").lower()
    if name and (name in _TAGS or name in _UNWRAPPED or name in _HEADINGS):
        return match.group(0)
    return "&lt;" + (match.group(1) or "") + (match.group(2) or "")


class _ImagesToLinks(Treeprocessor):
    def run(self, root: etree.Element) -> None:
        for element in list(root.iter()):
            if element.tag in _HEADINGS:
                # the page owns the heading outline (title, sections); user headings become bold paragraphs
                strong = etree.Element("strong")
                strong.text = element.text
                for inner in list(element):
                    element.remove(inner)
                    strong.append(inner)
                element.tag = "p"
                element.text = None
                element.append(strong)
        for parent in root.iter():
            for index, child in enumerate(list(parent)):
                if child.tag != "img":
                    continue
                link = etree.Element("a", {"href": child.get("src", "")})
                link.text = child.get("alt") or child.get("src", "")
                link.tail = child.tail
                parent.remove(child)
                parent.insert(index, link)


class _NoImages(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - python-markdown's name
        md.treeprocessors.register(_ImagesToLinks(md), "statusgen_no_images", 0)


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    # relative links in an issue mean nothing on the site (and would dangle); keep absolute ones only
    if attribute == "href":
        lowered = value.strip().lower()
        if not lowered.startswith(("http://", "https://", "mailto:")):
            return None
    return value


_md = markdown.Markdown(extensions=["fenced_code", "tables", "sane_lists", _NoImages()], output_format="html")


def sanitize(html: str) -> str:
    """Allow-listed HTML; other tags become text first, so no unclosed element swallows what follows."""
    return nh3.clean(
        _TAG.sub(_shown_as_text, html),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
        attribute_filter=_keep_attribute,
    )


def render_markdown(text: str) -> Markup:
    """Markdown -> sanitized HTML, with secret values masked (before the cache, so it never holds a secret)."""
    if not text or not text.strip():
        return Markup("")
    return _render(mask(text))


@lru_cache(maxsize=4096)  # the same text feeds a page, the JSON API and the feeds
def _render(text: str) -> Markup:
    _md.reset()
    return Markup(sanitize(_md.convert(text)))


def plain_text(text: str, limit: int = 300) -> str:
    """A short plain-text excerpt (for feeds and the JSON API)."""
    cleaned = nh3.clean(str(render_markdown(text)), tags=set())
    cleaned = " ".join(cleaned.split())
    cleaned = _html.unescape(cleaned)
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned
