"""Self-contained offline HTML of a deck spec: deck.gl, h3-js and the spec inlined, nothing fetched.

For snapshots that must open anywhere without a server or network (planner reports, incident packs,
the layer gallery of the docs). Live screens use the cockpit instead.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

ASSETS = Path(__file__).parent / "cockpit" / "assets"


def _bundles() -> list[Path]:
    import panel

    root = Path(panel.__file__).parent / "dist" / "bundled" / "deckglplot"
    return [
        root / "h3-js@4.1.0" / "dist" / "h3-js.umd.js",
        root / "deck.gl@9.1.14" / "dist.min.js",
        ASSETS / "deckspec.js",
    ]


def offline_html(spec: dict[str, Any], title: str, *, background: str = "#0b1420", caption: str = "") -> str:
    """One HTML page drawing `spec` (from `layers.deck_spec`) full-window, with an optional caption."""
    scripts = "\n".join(f"<script>{path.read_text(encoding='utf-8')}</script>" for path in _bundles())
    data = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>html,body{{margin:0;height:100%;background:{background};color:#e6eef7;font-family:sans-serif}}
#map{{position:absolute;inset:0}}#cap{{position:absolute;left:12px;top:10px;z-index:2;font-size:15px;
background:rgba(11,20,32,.75);padding:6px 10px;border-radius:4px}}</style>
{scripts}</head><body><div id="map"></div><div id="cap">{html.escape(caption or title)}</div>
<script>
(async function () {{
  const spec = {data};
  await Promise.all(spec.layers.map(window.twinDeckSpec.loadImages));
  window.__deck = new deck.Deck({{parent: document.getElementById("map"), controller: true,
    initialViewState: spec.initialViewState,
    layers: spec.layers.map((s) => window.twinDeckSpec.convertLayer(s)),
    onAfterRender: () => {{ window.__rendered = (window.__rendered || 0) + 1; }}}});
}})();
</script></body></html>
"""


def deck_scripts() -> str:
    """The `<script>` elements that inline h3-js, deck.gl and the project's spec converter
    (`window.twinDeckSpec`), for pages that mount their own decks (e.g. the planner's report)."""
    return "\n".join(f"<script>{path.read_text(encoding='utf-8')}</script>" for path in _bundles())
