"""Static files: hashed, compressed and cached for a year in production; plain in development."""

import gzip
import re
from pathlib import Path

import brotli
import pytest

from conftest import app_config
from shop import ROOT, create_app
from shop.config import load_config
from shop.static_files import build

STATIC = Path(ROOT) / "static"
YEAR = 365 * 24 * 3600


@pytest.fixture
def production_static(migrated, tmp_path):
    """A test client of an app serving static files the production way."""
    app = create_app(app_config(migrated, STATIC_BUILD_DIR=str(tmp_path / "static-build")))
    return app.test_client()


def max_age(response) -> int:
    """The max-age of a response's Cache-Control, 0 if none."""
    match = re.search(r"max-age=(\d+)", response.headers.get("Cache-Control", ""))
    return int(match.group(1)) if match else 0


def stylesheet_url(page: str) -> str:
    """The stylesheet link of a page."""
    match = re.search(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert match, "no stylesheet link"
    return match.group(1)


def test_pages_link_content_hashed_assets(production_static):
    page = production_static.get("/").get_data(as_text=True)
    assert re.fullmatch(r"/static/css/shop\.[0-9a-f]{12}\.css", stylesheet_url(page))
    assert re.search(r'src="/static/js/htmx\.min\.[0-9a-f]{12}\.js"', page)
    assert re.search(r'href="/static/favicon\.[0-9a-f]{12}\.svg"', page)


@pytest.mark.parametrize(
    ("accept", "encoding", "decode"),
    [("br, gzip", "br", brotli.decompress), ("gzip", "gzip", gzip.decompress)],
)
def test_hashed_assets_are_compressed_and_cached_for_a_year(
    production_static, accept, encoding, decode
):
    url = stylesheet_url(production_static.get("/").get_data(as_text=True))
    response = production_static.get(url, headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    assert max_age(response) >= YEAR and "immutable" in response.headers["Cache-Control"]
    assert decode(response.get_data()) == (STATIC / "css" / "shop.css").read_bytes()


def test_static_files_carry_the_security_headers(production_static):
    url = stylesheet_url(production_static.get("/").get_data(as_text=True))
    response = production_static.get(url)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"]


def test_a_browser_without_compression_gets_the_plain_file(production_static):
    url = stylesheet_url(production_static.get("/").get_data(as_text=True))
    response = production_static.get(url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in response.headers
    assert response.get_data() == (STATIC / "css" / "shop.css").read_bytes()


def test_a_stale_hash_is_not_found_and_plain_names_still_work(production_static):
    assert production_static.get("/static/css/shop.000000000000.css").status_code == 404
    plain = production_static.get("/static/css/shop.css")
    assert plain.status_code == 200 and max_age(plain) < YEAR


def test_development_serves_plain_names_without_long_caching(client):
    page = client.get("/").get_data(as_text=True)
    assert stylesheet_url(page) == "/static/css/shop.css"
    assert max_age(client.get("/static/css/shop.css")) == 0


def test_only_production_builds_static_files(tmp_path):
    assert load_config({"FLASK_DEBUG": "1"}, str(tmp_path))["STATIC_BUILD_DIR"] is None
    demo = {"STRIPE_EMULATOR": "1", "PUBLIC_URL": "https://shop.example.com"}
    production = load_config(
        {"SECRET_KEY": "s", **demo, "RATELIMIT_STORAGE_URI": "memory://"}, str(tmp_path)
    )
    assert production["STATIC_BUILD_DIR"] == str(tmp_path / "static-build")


def test_an_edited_file_gets_a_new_name_and_the_old_build_goes(tmp_path):
    source = tmp_path / "static"
    (source / "css").mkdir(parents=True)
    (source / "css" / "site.css").write_text("body { color: black; }\n" * 50)
    (source / "logo.png").write_bytes(b"\x89PNG not worth compressing")
    first, manifest = build(source, tmp_path / "out")
    assert (first / manifest["css/site.css"]).exists()
    assert (first / (manifest["css/site.css"] + ".gz")).exists()
    assert not (first / (manifest["logo.png"] + ".gz")).exists()
    assert build(source, tmp_path / "out") == (first, manifest)  # unchanged: reused

    (source / "css" / "site.css").write_text("body { color: navy; }\n" * 50)
    second, edited = build(source, tmp_path / "out")
    assert edited["css/site.css"] != manifest["css/site.css"]
    assert edited["logo.png"] == manifest["logo.png"]
    assert second.exists() and not first.exists()
