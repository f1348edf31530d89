"""The 404 page's head: it is served for a missing address at any depth, so nothing in it may be relative
to where it was found.

With ``base_url`` known its links start at the site's path (``/status/...``). Without it,
the site's folder is only known in the browser: the page carries its stylesheet and icon
inline (so it looks right at once, with or without scripts), links relative to a
``<base href="/">``, and a small inline script that moves that base to the site's folder
before any link is used: a folder the site owns in the address (``/status/monitors/gone/``
-> ``/status/``), confirmed (or, with no such folder, found) by asking each parent folder
for ``build.json`` of this very build. A Content-Security-Policy allows exactly that
script and that style by their hashes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from generator.site import links
from generator.site.theme import static_files
from generator.timeutil import to_iso

if TYPE_CHECKING:
    from generator.site.renderer import Renderer

# the site's own top-level folders: one of them in a missing address marks where the site starts
SITE_FOLDERS = ("monitors", "incidents", "maintenance", "history", "subscribe", "api", "badges", "assets")

_SCRIPT = """(function () {
  var base = document.querySelector("base"), asOf = %(as_of)s, known = %(folders)s;
  var parts = location.pathname.split("/").slice(0, -1), tries = [], i;
  for (i = 1; i < parts.length; i++) {
    if (known.indexOf(parts[i]) >= 0) { tries.push(parts.slice(0, i).join("/") + "/"); break; }
  }
  if (tries.length) base.href = tries[0];
  for (i = parts.length; i >= 1; i--) {
    var folder = parts.slice(0, i).join("/") + "/";
    if (tries.indexOf(folder) < 0) tries.push(folder);
  }
  function ask(k) {
    if (k >= tries.length || !window.fetch) return;
    fetch(tries[k] + "build.json", { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (build) {
        if (build && build.data_as_of === asOf) base.href = tries[k]; else ask(k + 1);
      }, function () { ask(k + 1); });
  }
  ask(0);
})();"""


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def head(renderer: Renderer) -> dict[str, Any]:
    """Template context for the 404 page: its link root, and what makes it work without knowing it."""
    known = links.base_path(renderer.base_url)
    if known:
        return {"notfound_root": known}
    assets = dict(static_files(renderer.folders))
    # "</" cannot end the <style> early; the hash is of the text exactly as written
    css = (assets["style.css"].read_text(encoding="utf-8") if "style.css" in assets else "").replace("</", "<\\/")
    icon = assets["favicon.svg"].read_bytes() if "favicon.svg" in assets else b""
    script = _SCRIPT % {"as_of": json.dumps(to_iso(renderer.now)), "folders": json.dumps(list(SITE_FOLDERS))}
    policy = (f"default-src 'none'; script-src {_hash(script)}; style-src {_hash(css)}; img-src 'self' data:; "
              "connect-src 'self'; base-uri 'self'")
    return {
        "notfound_root": "",
        "base_href": "/",
        "csp": policy,
        "inline_script": Markup(script),
        "inline_css": Markup(css),
        "icon_href": "data:image/svg+xml;base64," + base64.b64encode(icon).decode("ascii") if icon else None,
    }
