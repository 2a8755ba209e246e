"""Static files in production: content-hashed names, precompressed, cached for a year.

At start-up (in the gunicorn master, before the workers fork) every file of `static/` is
copied under a name carrying a hash of its content (`css/shop.css` →
`css/shop.3b1f0c9e2a7d.css`), with gzip and Brotli versions beside it, into
`STATIC_BUILD_DIR`. WhiteNoise serves that folder with `Cache-Control: immutable` and a
far-future max-age, picking the encoding the browser accepts, and `url_for('static', ...)`
hands out the hashed names. A changed file gets a new name, so nothing stale is ever served.

The build happens at web start-up rather than in the release phase because a PaaS runs
the release in a throwaway container: files written there never reach the web dynos.
Nothing generated is committed, so the sources stay the only copy to edit. The build is
content-addressed and renamed into place atomically, so processes sharing a disk agree.
"""

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from .security import SECURITY_HEADERS

MANIFEST = "manifest.json"  # beside the served `files/` folder, so it is not served itself
HASH_LENGTH = 12


def hashed_name(name: str, digest: str) -> str:
    """`css/shop.css` with digest `abc` → `css/shop.abc.css`."""
    path = PurePosixPath(name)
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def source_manifest(source: Path) -> dict[str, str]:
    """Map every file under `source` (posix relative path) to its content-hashed name."""
    manifest = {}
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        name = path.relative_to(source).as_posix()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]
        manifest[name] = hashed_name(name, digest)
    return manifest


def build(source: Path, target: Path) -> tuple[Path, dict[str, str]]:
    """Build (or reuse) the hashed, compressed copy of `source`: (folder to serve, name map)."""
    manifest = source_manifest(source)
    build_id = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:16]
    folder = target / build_id
    if not (folder / MANIFEST).exists():
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target))
        (staging / "files").mkdir()
        compressor = Compressor(quiet=True)
        for name, hashed in manifest.items():
            copy = staging / "files" / hashed
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / name, copy)
            if compressor.should_compress(hashed):
                compressor.compress(str(copy))
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        try:
            os.rename(staging, folder)
        except OSError:  # another process finished the same build first
            shutil.rmtree(staging, ignore_errors=True)
    for old in target.iterdir():
        if old.is_dir() and old.name != build_id and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    return folder / "files", manifest


def _add_security_headers(headers, path: str, url: str) -> None:
    """The headers every response of the shop carries (CSP, nosniff...), on static files too."""
    for name, value in SECURITY_HEADERS.items():
        headers[name] = value


def init_app(app: Flask) -> None:
    """Serve hashed static files through WhiteNoise when STATIC_BUILD_DIR is set."""
    build_dir = app.config.get("STATIC_BUILD_DIR")
    if not build_dir or not app.static_folder:
        return  # development and tests: Flask serves static/ itself, uncached
    folder, manifest = build(Path(app.static_folder), Path(build_dir))
    app.wsgi_app = WhiteNoise(
        app.wsgi_app,
        root=str(folder),
        prefix=app.static_url_path,
        # Every file here has its content hash in its name: cache it for good.
        immutable_file_test=lambda path, url: True,
        # WhiteNoise answers before Flask, so its answers get the security headers here.
        add_headers_function=_add_security_headers,
    )

    @app.url_defaults
    def hashed_static_url(endpoint: str, values: dict) -> None:
        """Point `url_for('static', filename=...)` at the hashed copy."""
        if endpoint == "static" and "filename" in values:
            values["filename"] = manifest.get(values["filename"], values["filename"])
