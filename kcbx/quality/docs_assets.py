"""Data Docs without the network: every CDN address in GX's pages becomes the copy shipped
in expectations/data_docs_assets/ (see its README), and the S3 logo (whose address carries
the data context's id) becomes GX's own local logo."""

from __future__ import annotations

import functools
import os
import re
import shutil
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[2] / "expectations" / "data_docs_assets"
VENDOR = Path("static") / "vendor"
# the address's start (version-pinned as GX 1.24's templates write it) -> the local file
LOCAL = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "js/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "js/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "js/popper.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "css/bootstrap-datepicker.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "js/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "js/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "js/vega-embed.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "js/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "css/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "js/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "css/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "css/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "css/all.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "css/bootstrap-prefers-dark.min.css",
}  # fmt: skip
_ADDRESS = re.compile(r'(src|href)="(https?://[^"]+)"')
# a subresource-integrity check makes the browser fetch in CORS mode, which it refuses for
# a file opened from disk: the local copies (byte for byte the hashed files) go without it
_INTEGRITY = re.compile(r'\s(?:integrity|crossorigin)="[^"]*"')
_LOGO = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png"


def localise(site: Path) -> list[str]:
    """Copy the assets into the site and rewrite its pages; return the loaded addresses
    (src=, stylesheet href=) still pointing elsewhere (none when GX's templates are the
    ones this was made for)."""
    for source in ASSETS.rglob("*"):
        if source.is_file() and source.name != "README.md":
            # owner-only, as every file under the reports folder (not the repository's modes)
            copy = site / VENDOR / source.relative_to(ASSETS)
            copy.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
            copy.chmod(0o600)
    remaining: list[str] = []

    def local(up: Path, match: re.Match) -> str:
        attribute, address = match.groups()
        if address.split("?")[0] == _LOGO:
            return f'{attribute}="{(up / "static" / "images" / "logo-long.png").as_posix()}"'
        if address in LOCAL:
            return f'{attribute}="{(up / VENDOR / LOCAL[address]).as_posix()}"'
        if attribute == "src" or address.endswith(".css"):
            remaining.append(address)
        return match.group(0)  # a link a person may follow (GX's site, its newsletter)

    for page in site.rglob("*.html"):
        up = Path(os.path.relpath(site, page.parent))
        text = _ADDRESS.sub(functools.partial(local, up), page.read_text(encoding="utf-8"))
        page.write_text(_INTEGRITY.sub("", text), encoding="utf-8")
    return sorted(set(remaining))
