# Two commands do all the set-up on a fresh machine:
#   make run    probe the bundled demo services on loopback, track incidents, build _site/
#   make test   the whole test suite (installs Python packages, npm tools and Debian's chromium)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench check build clean system-deps npm-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch node_modules/.installed

npm-deps: node_modules/.installed

# Debian's chromium for the browser tests (emoji font for faithful screenshots); skipped when a
# Chromium or Chrome is already there (GitHub's Ubuntu runners ship google-chrome).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends chromium fonts-noto-color-emoji; \
	fi

run: $(STAMP)
	$(BIN)/statusgen demo

check: $(STAMP)
	$(BIN)/statusgen check

build: $(STAMP)
	$(BIN)/statusgen build

test: $(STAMP) npm-deps system-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP) npm-deps
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules _site data .pytest_cache
