# Warta: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
KAFKA_PORT ?= 9092

.PHONY: run test test-long lint venv broker broker-stop stop bench clean chaos fuzz browser wordpress

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Warta needs Python 3.11 (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

broker:
	KAFKA_PORT=$(KAFKA_PORT) deploy/kafka/broker.sh start

broker-stop:
	KAFKA_PORT=$(KAFKA_PORT) deploy/kafka/broker.sh stop

# Everything, locally: broker, topics, sandbox platforms, ingest, scheduler, publishers. Ctrl-C stops.
run: venv broker
	KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$(KAFKA_PORT) $(BIN)/warta topics > /dev/null
	KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$(KAFKA_PORT) $(BIN)/warta dev

# Every Warta process, broker, WordPress and MariaDB that `make run`, `make test` or `make bench`
# left from this checkout (their pid files under var/); never another checkout's.
stop:
	deploy/stop.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo --no-cache

# The tests start their own broker (port 19092, under var/test-kafka) unless
# KAFKA_BOOTSTRAP_SERVERS names one, or use testcontainers where a Docker engine answers.
# The real WordPress (below) runs for the session only: what it started is stopped afterwards.
test: venv lint browser
	deploy/wordpress/setup.sh with $(BIN)/pytest -q -m "not long"

# Tests that take minutes: a three-broker cluster (deploy/kafka/cluster.sh) losing a broker under load.
test-long: venv
	$(BIN)/pytest -q -m long

# Debian's Chromium for the dashboard's browser test, promtool (package prometheus, ~16 s) for
# the alert rules, and X's own counter, twitter-text (npm, under var/node), for our X lengths;
# tests skip with the reason when they can't be installed here.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) \
			|| echo "make browser: chromium not installed; tests/e2e/test_dashboard.py will be skipped"; fi
	@if ! command -v promtool >/dev/null; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus) \
			|| echo "make browser: promtool not installed; the deploy tests check structure only"; fi
	@if command -v npm >/dev/null && [ ! -d var/node/node_modules/twitter-text ]; then \
		npm install --silent --no-audit --no-fund --prefix var/node twitter-text@3.1.0 \
			|| echo "make browser: twitter-text not installed; tests/fidelity/test_x_length_twitter_text.py will be skipped"; fi

# A real WordPress (Debian's package, PHP's server, a private MariaDB) on 127.0.0.1:8881 for
# tests/e2e/test_wordpress_real.py, left running (`make stop` stops it); that test skips with
# the reason when it can't be set up here. `make test` starts and stops it by itself.
wordpress:
	@deploy/wordpress/setup.sh start \
		|| echo "make wordpress: not available; tests/e2e/test_wordpress_real.py will be skipped"

# Benchmarks print JSON lines; each starts what it needs (its own broker unless
# KAFKA_BOOTSTRAP_SERVERS is set). See README.md, "Measuring it".
bench: venv
	$(BIN)/python -m bench.slots bench/worlds/*.json
	$(BIN)/python -m bench.evaluation_like --seeds 1-3 --evaluate
	$(BIN)/python -m bench.scheduler
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.publisher
	$(BIN)/python -m bench.spool
	$(BIN)/python -m bench.x_length
	$(BIN)/python -m bench.e2e
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.analytics --items 5000

# The whole system under 2,000 items x 3 channels while services are killed, the broker is
# stopped and started and the platforms misbehave; prints the table, fails on loss or duplicates.
chaos: venv
	$(BIN)/python -m bench.chaos --items 2000

# schemathesis and hypothesis on every ingest, console and inbox route of the running system, from their
# own OpenAPI documents (FUZZ_REQUESTS generated requests, valid and invalid): no 5xx, every answer
# as documented, and afterwards an urgent item on every demo channel published within 10 s.
# `make test` runs the same test with a few hundred requests. WARTA_FUZZ_SEED=<n> replays a run.
FUZZ_REQUESTS ?= 10000
fuzz: venv
	WARTA_FUZZ_REQUESTS=$(FUZZ_REQUESTS) $(BIN)/pytest -q -rxXs tests/e2e/test_fuzz_http.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
