# Everyday commands. `make run` and `make test` set everything up on a fresh machine.
# htmx is vendored: static/js/htmx.min.js is htmx.org 2.0.11 from npm (`make htmx` refetches it).
# The browser tests' axe-core is vendored too: tests/browser/vendor/axe.min.js (`make axe`).
# So is Swagger UI for `GET /api/docs`: static/vendor/swagger-ui/ (`make swagger-ui`).

VENV    ?= .venv
PYTHON  ?= python3
PORT    ?= 5000
HTMX_VERSION := 2.0.11
AXE_VERSION  := 4.14.1
SWAGGER_UI_VERSION := 5.36.0
BIN     := $(VENV)/bin
export FLASK_APP := wsgi:app

.PHONY: run test lint format settings settings-check screenshot translations htmx axe swagger-ui bench rehearsal clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

## run: the shop on http://127.0.0.1:$(PORT) with SQLite, the catalogue, a demo customer, admin and code, the Stripe
## emulator, and the email worker beside it (without MAIL_URL, messages land in instance/mail/*.eml)
run: $(VENV)/.runtime
	FLASK_DEBUG=1 $(BIN)/flask db upgrade
	FLASK_DEBUG=1 $(BIN)/flask seed
	FLASK_DEBUG=1 $(BIN)/flask demo-user --quiet
	FLASK_DEBUG=1 $(BIN)/flask demo-admin --quiet
	FLASK_DEBUG=1 $(BIN)/flask demo-code --quiet
	FLASK_DEBUG=1 $(BIN)/flask worker & worker=$$!; \
		FLASK_DEBUG=1 $(BIN)/flask demo-ready --url http://127.0.0.1:$(PORT) & ready=$$!; \
		trap 'kill $$worker $$ready 2>/dev/null; wait $$worker' EXIT INT TERM; \
		FLASK_DEBUG=1 $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

## test: the whole suite (PostgreSQL too when TEST_DATABASE_URL is set), in TEST_WORKERS
## parallel processes (pytest-xdist; each has its own database, server and browser)
TEST_WORKERS ?= 2
test: $(VENV)/.dev
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

## bench: the main routes under gunicorn and wrk next to a bare Flask app (not a test; ~3 min)
bench: $(VENV)/.runtime
	@command -v wrk >/dev/null 2>&1 || { echo "bench: installing wrk from Debian"; \
		apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }; }
	$(BIN)/python -m bench $(BENCH_ARGS)

$(VENV)/.rehearsal: bench/rehearsal/requirements.txt $(VENV)/.dev
	$(BIN)/pip install -q -r bench/rehearsal/requirements.txt
	touch $@

## rehearsal: a sale day on loopback: two web dynos, the worker, Locust customers for REHEARSAL_MINUTES
## (default 5), one dyno SIGKILLed halfway, then the books reconciled (not a test; stops by itself)
rehearsal: $(VENV)/.rehearsal
	@command -v redis-server >/dev/null 2>&1 || { echo "rehearsal: installing redis-server from Debian"; \
		apt-get install -y -qq redis-server >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq redis-server; }; }
	$(BIN)/python -m bench.rehearsal

## screenshot: regenerate docs/screenshot.png and docs/admin-order.png (the README's pictures) in headless Chromium
screenshot: $(VENV)/.dev
	UPDATE_SCREENSHOT=1 $(BIN)/pytest -q tests/browser/test_screenshot.py tests/browser/test_admin.py

## settings: regenerate .env.example and docs/configuration.md's table from shop/settings.py
settings: $(VENV)/.runtime
	$(BIN)/python -c 'import sys; from shop.settings import main; sys.exit(main([]))'

settings-check: $(VENV)/.runtime
	$(BIN)/python -c 'import sys; from shop.settings import main; sys.exit(main(["--check"]))'

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

htmx:
	cd $$(mktemp -d) && npm pack -q htmx.org@$(HTMX_VERSION) && tar xzf htmx.org-$(HTMX_VERSION).tgz \
		&& cp package/dist/htmx.min.js $(CURDIR)/static/js/htmx.min.js

axe:
	cd $$(mktemp -d) && npm pack -q axe-core@$(AXE_VERSION) && tar xzf axe-core-$(AXE_VERSION).tgz \
		&& cp package/axe.min.js $(CURDIR)/tests/browser/vendor/axe.min.js \
		&& cp package/LICENSE $(CURDIR)/tests/browser/vendor/axe-core.LICENSE

## translations: extract every message, update translations/*/LC_MESSAGES/messages.po, compile the .mo
translations: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ --no-location --sort-output --no-wrap \
		-o translations/messages.pot shop templates
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --no-wrap \
		--ignore-obsolete
	$(BIN)/pybabel compile -d translations --statistics

swagger-ui:
	cd $$(mktemp -d) && npm pack -q swagger-ui-dist@$(SWAGGER_UI_VERSION) \
		&& tar xzf swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz && mkdir -p $(CURDIR)/static/vendor/swagger-ui \
		&& cp package/swagger-ui-bundle.js package/swagger-ui.css package/LICENSE \
			$(CURDIR)/static/vendor/swagger-ui/

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
