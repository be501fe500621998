# Two entry points for a new machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 7860

.PHONY: run test install browser model index bench clean calibrate heldout

# torch comes first, pinned to the local CPU build: a bare `torch` requirement
# would pull a multi-GB CUDA build on a fresh machine.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

model: install
	$(PY) -c "from index.convert import default_model_dir, ensure_model; ensure_model(default_model_dir())"
	$(PY) -c "from index.wordvectors import load_word_vectors; load_word_vectors(quiet=False)"

index: model
	$(VENV)/bin/verbatim build --corpus corpus

# Builds the index if missing or stale (serve does it), then serves the chat.
run: model
	$(VENV)/bin/verbatim serve --corpus corpus --host $(HOST) --port $(PORT)

# The browser tests (tests/chat/test_browser.py) drive Debian's Chromium through Playwright's
# driver (never `playwright install`). As root, install it when it is missing; otherwise say
# so: those tests then fail with the same advice rather than skip.
CHROMIUM := /usr/bin/chromium
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "$(CHROMIUM) is missing and this is not root: run 'sudo apt-get install chromium' or the browser tests fail" >&2; \
	  fi; \
	fi

test: install browser
	$(PY) -m pytest -q

# The answer decision (chat/decision.json), fitted by cross-validation on the calibration
# questions, each asked of the corpus it was written for; the test splits are refused, their hashes recorded.
EVAL_CORPUS := .verbatim/eval-corpus
# Each file is asked of the corpus it was written for: the shipped one, or the evaluation corpus.
CALIBRATION := corpus/dev_questions.jsonl tests/data/extra_questions.jsonl tests/data/heldout/calibration.jsonl@$(EVAL_CORPUS) tests/data/heldout/calibration_more.jsonl@$(EVAL_CORPUS) tests/data/heldout/calibration_structure.jsonl@$(EVAL_CORPUS) tests/data/heldout/calibration_numbers.jsonl@$(EVAL_CORPUS) tests/data/heldout/calibration_relative.jsonl@$(EVAL_CORPUS) tests/data/heldout/calibration_sections.jsonl@$(EVAL_CORPUS) tests/data/heldout/calibration_ordinal_next.jsonl@$(EVAL_CORPUS) tests/data/heldout/calibration_ordinal_paragraphs.jsonl@$(EVAL_CORPUS) tests/data/heldout/calibration_speakers.jsonl@$(EVAL_CORPUS) tests/data/heldout/calibration_parts_en.jsonl@$(EVAL_CORPUS) tests/data/heldout/calibration_sections_unnamed.jsonl@$(EVAL_CORPUS) tests/data/heldout/calibration_parts_alone.jsonl@$(EVAL_CORPUS)
$(EVAL_CORPUS)/sources.toml: tests/data/eval_corpus.py
	$(PY) tests/data/eval_corpus.py $(EVAL_CORPUS)
calibrate: model $(EVAL_CORPUS)/sources.toml
	$(VENV)/bin/verbatim calibrate --corpus corpus $(CALIBRATION)

# Held-out figures: the five frozen test splits, scored once the decision is fitted.
heldout: model $(EVAL_CORPUS)/sources.toml
	$(VENV)/bin/verbatim eval --corpus $(EVAL_CORPUS) tests/data/heldout/test.jsonl
	$(VENV)/bin/verbatim eval --corpus $(EVAL_CORPUS) tests/data/heldout/fresh.jsonl
	$(VENV)/bin/verbatim eval --corpus $(EVAL_CORPUS) tests/data/heldout/fresh2.jsonl
	$(VENV)/bin/verbatim eval --corpus $(EVAL_CORPUS) tests/data/heldout/fresh3.jsonl
	$(VENV)/bin/verbatim eval --corpus $(EVAL_CORPUS) tests/data/heldout/fresh4.jsonl

# `make bench BENCH_ARGS=--full` adds the 1M-passage scale case.
BENCH_ARGS ?=
bench: model
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf corpus/.index corpus/.index.* .pytest_cache
