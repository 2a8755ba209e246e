"""What a first visit downloads besides the HTML: the page's CSS and JS, gzipped."""

import re
from dataclasses import dataclass

from .client import Browser

ASSET = re.compile(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"')


@dataclass(frozen=True)
class Asset:
    """One stylesheet or script as served: bytes on the wire, encoding and cache header."""

    url: str
    wire_bytes: int
    encoding: str
    cache_control: str


def first_load(browser: Browser, path: str = "/") -> tuple[int, list[Asset]]:
    """The page's gzipped size and every CSS and JS file it links, fetched as a browser would."""
    gzip = {"Accept-Encoding": "gzip"}
    page = browser.request("GET", path, headers=gzip)
    assets = []
    for url in ASSET.findall(page.text):
        answer = browser.request("GET", url, headers=gzip)
        if answer.status != 200:
            raise RuntimeError(f"{url} answered {answer.status}")
        assets.append(
            Asset(
                url,
                len(answer.raw),
                answer.header("content-encoding") or "identity",
                answer.header("cache-control") or "",
            )
        )
    return len(page.raw), assets
