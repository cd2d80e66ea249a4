"""The built book in headless Chromium: every static explorer works offline.

Builds the book (from the stored outputs, as ``make book`` does) into a temporary folder,
opens each page that holds an explorer (alexnet_lab/viz/widgets.py) and, in the page, tries
every option of every control. It checks that each control changes the shown image, that
the caption follows, that no script fails, and that the page requests nothing from the
network: every resource the page loaded is a local file or a data URI, and a proxy the
browser must use for any network request sees none.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Chromium's own background services (updates, clock, sign-in) use the proxy too; the pages'
# requests are everything else.
BROWSER_OWN = r"\b(update\.googleapis\.com|clients\d\.google\.com|accounts\.google\.com)\b"
# Jupyter Book 1's thebe extension declares this twice on every page (harmless).
THEBE_DUPLICATE = "Identifier 'THEBE_JS_URL' has already been declared"

_CATCH = """<script>window.__errors = [];
window.addEventListener("error", function (e) { window.__errors.push(String(e.message)); });
</script>"""

_DRIVER = """<script>
function hash(s) {
  var h = 5381;
  for (var i = 0; i < s.length; i++) { h = (h * 33 + s.charCodeAt(i)) | 0; }
  return h;
}
window.addEventListener("load", function () { setTimeout(function () {
  var loaded = performance.getEntriesByType("resource");
  var out = {explorers: [], errors: window.__errors,
             resources: loaded.map(function (r) { return r.name; })};
  document.querySelectorAll(".alexnet-explorer").forEach(function (root) {
    var img = root.querySelector("img.ax-image"), caption = root.querySelector(".ax-caption");
    var first = [hash(img.src), caption.textContent], controls = [];
    root.querySelectorAll("select").forEach(function (s) {
      var seen = [];
      for (var i = 0; i < s.options.length; i++) {
        s.value = String(i); s.dispatchEvent(new Event("change"));
        seen.push([hash(img.src), caption.textContent, img.src.slice(0, 15)]);
      }
      s.value = "0"; s.dispatchEvent(new Event("change"));
      controls.push(seen);
    });
    var title = root.querySelector("b").textContent;
    out.explorers.push({title: title, first: first, controls: controls});
  });
  var pre = document.createElement("pre"); pre.id = "driver-results";
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
}, 200); });
</script>"""


class _Proxy(socketserver.ThreadingTCPServer):
    """Counts the requests a browser sends through it, and answers none."""

    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[str] = []
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                proxy.seen.append(self.rfile.readline(2048).decode(errors="replace").strip())

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book")
    build = subprocess.run(
        [str(Path(sys.executable).with_name("jupyter-book")), "build", str(REPO),
         "--path-output", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return out / "_build" / "html"


def drive(page: Path, proxy: _Proxy) -> dict:
    text = page.read_text()
    driven = page.with_name(f"driven-{page.name}")
    driven.write_text(
        text.replace("<head>", "<head>" + _CATCH, 1).replace("</body>", _DRIVER + "</body>", 1)
    )
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--proxy-server=http://127.0.0.1:{proxy.server_address[1]}",
         "--proxy-bypass-list=<-loopback>", "--virtual-time-budget=20000", "--dump-dom",
         driven.as_uri()],
        capture_output=True, text=True, timeout=300, check=True,
    ).stdout  # fmt: skip
    found = re.search(r'<pre id="driver-results"[^>]*>(.*?)</pre>', dom, flags=re.S)
    assert found, f"the driver wrote no results for {page.name}"
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_every_static_explorer_of_the_built_book_works_offline(site) -> None:
    pages = [
        p for p in sorted((site / "book").glob("*.html")) if "alexnet-explorer" in p.read_text()
    ]
    assert pages, "no built page holds an explorer"
    proxy = _Proxy()
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        results = {p.name: drive(p, proxy) for p in pages}
    finally:
        proxy.shutdown()
    sent = [r for r in proxy.seen if not re.search(BROWSER_OWN, r)]
    assert sent == [], f"the pages sent network requests: {sent}"
    for name, result in results.items():
        errors = [e for e in result["errors"] if THEBE_DUPLICATE not in e]
        assert errors == [], (name, errors)
        remote = [r for r in result["resources"] if not r.startswith(("file:", "data:"))]
        assert remote == [], (name, remote)
        assert result["explorers"], name
        for explorer in result["explorers"]:
            where = f"{name}: {explorer['title']}"
            for control in explorer["controls"]:
                assert control[0][:2] == explorer["first"], (
                    f"{where}: option 0 is not the first view"
                )
                assert all(src == "data:image/webp" for _, _, src in control), where
                if len(control) > 1:
                    assert len({h for h, _, _ in control}) > 1, (
                        f"{where}: a control never changes the image"
                    )
                    assert len({c for _, c, _ in control}) > 1, (
                        f"{where}: the caption never changes"
                    )
