"""Every setting is declared once, in shop/settings.py: `.env.example` and the table of
docs/configuration.md are what it generates, the code reads no variable it does not
declare, and each declared default and range is what `load_config` does."""

import re
from pathlib import Path

import pytest

from shop import ROOT, settings
from shop.config import ConfigError, load_config, require_shared_rate_limits

#: Where the shop reads its environment: the package and the web process's config.
SOURCES = [*sorted((Path(ROOT) / "shop").rglob("*.py")), Path(ROOT) / "gunicorn.conf.py"]
#: A setting read by name (not the WSGI environ): env.get("X"), os.environ.get("X"),
#: _int(env, "X"), _whole_number("X").
READ = re.compile(
    r"""(?<![\w.])(?:os\.environ\.get|env\.get|_int\(env,|_whole_number)\(?\s*['"]([A-Z][A-Z0-9_]+)['"]"""
)
#: Declared but read by a library, not by the shop's code: Flask's dotenv switch.
READ_BY_LIBRARIES = {"FLASK_SKIP_DOTENV"}
#: Whole numbers that load_config does not read: gunicorn.conf.py reads PORT (and refuses
#: a bad one itself); WEB_CONCURRENCY is checked by require_shared_rate_limits below.
NOT_IN_LOAD_CONFIG = {"PORT", "WEB_CONCURRENCY"}
WHOLE = {
    name: s.parser
    for name, s in settings.SETTINGS.items()
    if isinstance(s.parser, settings.Whole) and name not in NOT_IN_LOAD_CONFIG
}


def configure(tmp_path, **env: str) -> dict:
    """load_config on `env` as the tests build apps (development rules), with PostgreSQL
    named so that every pool setting is read (no connection is made)."""
    env = {"DATABASE_URL": "postgresql://shop@127.0.0.1/none", **env}
    return load_config(env, str(tmp_path), {"TESTING": True, "SECRET_KEY": "x" * 32})


def test_env_example_is_what_the_table_generates():
    assert (Path(ROOT) / ".env.example").read_text() == settings.env_example(), "run make settings"


def test_the_docs_table_is_what_the_table_generates():
    current = settings.CONFIGURATION_DOC.read_text()
    assert current == settings.configuration_doc(current), "run make settings"


def test_env_example_lists_every_setting_with_its_default():
    text = (Path(ROOT) / ".env.example").read_text()
    lines = set(text.splitlines())
    for s in settings.SETTINGS.values():
        if s.example:
            assert f"{s.name}={s.default}" in lines
        else:
            assert f"# {s.name}= (leave unset)" in lines


def test_the_docs_table_lists_every_setting_once():
    text = settings.CONFIGURATION_DOC.read_text()
    rows = re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", text, re.M)
    assert sorted(rows) == sorted(settings.SETTINGS)


def test_the_code_reads_only_declared_settings():
    read = {name for path in SOURCES for name in READ.findall(path.read_text())}
    assert read, "the pattern finds the reads"
    assert read - set(settings.SETTINGS) == set()
    unread = set(settings.SETTINGS) - read - READ_BY_LIBRARIES
    # Abuse limits are read by load_config from the table itself (every RATE_LIMIT setting).
    assert unread == set(settings.rate_limits())


def test_the_declared_defaults_are_what_load_config_uses(tmp_path):
    config = configure(tmp_path)
    pool = config["SQLALCHEMY_ENGINE_OPTIONS"]
    used = {
        "DB_POOL_SIZE": pool["pool_size"],
        "DB_MAX_OVERFLOW": pool["max_overflow"],
        "DB_POOL_TIMEOUT": pool["pool_timeout"],
        "DB_CONNECT_TIMEOUT": pool["connect_args"]["connect_timeout"],
    }
    for name in WHOLE:
        assert str(used.get(name, config.get(name))) == settings.default(name), name
    for name, limit in settings.rate_limits().items():
        assert config[name] == limit
    assert config["LOG_LEVEL"] == settings.default("LOG_LEVEL")
    assert config["MAIL_CLAIM_SECONDS"] == int(settings.default("MAIL_CLAIM_SECONDS"))


@pytest.mark.parametrize("name", sorted(WHOLE))
def test_each_whole_number_accepts_exactly_its_declared_range(tmp_path, name):
    parser = WHOLE[name]
    configure(tmp_path, **{name: str(parser.minimum)})
    with pytest.raises(ConfigError, match=f"{name} must be at least {parser.minimum}"):
        configure(tmp_path, **{name: str(parser.minimum - 1)})
    if parser.maximum is not None:
        configure(tmp_path, **{name: str(parser.maximum)})
        with pytest.raises(ConfigError, match=f"{name} must be at most {parser.maximum}"):
            configure(tmp_path, **{name: str(parser.maximum + 1)})


def test_web_concurrency_is_read_with_its_declared_range():
    minimum = settings.minimum("WEB_CONCURRENCY")
    with pytest.raises(ConfigError, match=f"WEB_CONCURRENCY must be at least {minimum}"):
        require_shared_rate_limits({"WEB_CONCURRENCY": str(minimum - 1)})


@pytest.mark.parametrize("name", sorted(settings.rate_limits()))
def test_each_declared_rate_limit_is_read_and_checked(tmp_path, name):
    assert configure(tmp_path, **{name: "3 per hour"})[name] == "3 per hour"
    with pytest.raises(ConfigError, match=name):
        configure(tmp_path, **{name: "three an hour"})
