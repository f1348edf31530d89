# Two commands do all the set-up on a fresh machine:
#   make run    probe the bundled demo services on loopback, track incidents, build _site/
#   make test   the whole test suite (installs Python packages, npm tools, Debian's chromium and
#               monitoring-plugins)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint screenshots bench check build clean system-deps npm-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch node_modules/.installed

npm-deps: node_modules/.installed

# Debian packages the tests run for real: chromium for the browser tests (emoji font for faithful
# screenshots), skipped when a Chromium or Chrome is already there (GitHub's Ubuntu runners ship
# google-chrome); the Monitoring Plugins (check_http, check_tcp, check_dummy, ...) for command monitors,
# and dig for check_dig. One apt-get for whatever is missing.
system-deps:
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); missing=""; \
	if ! command -v chromium >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then \
	  missing="chromium fonts-noto-color-emoji"; \
	fi; \
	if [ ! -x /usr/lib/nagios/plugins/check_dummy ]; then missing="$$missing monitoring-plugins"; fi; \
	if ! command -v dig >/dev/null 2>&1; then missing="$$missing bind9-dnsutils"; fi; \
	if [ -n "$$missing" ]; then \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

run: $(STAMP)
	$(BIN)/statusgen demo

check: $(STAMP)
	$(BIN)/statusgen check

build: $(STAMP)
	$(BIN)/statusgen build

lint: $(STAMP)
	$(BIN)/ruff check generator tests bench
	$(BIN)/mypy

test: $(STAMP) npm-deps system-deps lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

# refresh the README's screenshots (docs/screenshot-*.png) from the browser test
screenshots: $(STAMP) npm-deps system-deps
	STATUSGEN_UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_site_browser.py -k screenshots

bench: $(STAMP) npm-deps
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules _site data .pytest_cache
