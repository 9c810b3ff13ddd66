# Two entry points: `make run` and `make test`. Both go through the idempotent `make install`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run test lint index eval bench clean

$(PY):
	python3 -m venv $(VENV)

# torch first, pinned to the CPU build on disk, so nothing pulls the multi-GB CUDA build.
$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "torch==2.13.0"
	$(PIP) install --quiet -e ".[dev,milvus]"
	touch $(STAMP)

install: $(STAMP)

index: install
	$(VENV)/bin/rag ingest --if-missing

run: index
	$(VENV)/bin/rag serve --host 127.0.0.1 --port 8000 --local-only

lint: install
	$(VENV)/bin/ruff check rag service eval tests bench
	$(VENV)/bin/ruff format --check rag service eval tests bench
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest -q
	$(VENV)/bin/rag eval --gate eval/floors.json --json eval/reports/last-ci.json

eval: index
	$(VENV)/bin/rag eval --markdown eval/reports/seeds.md --json eval/reports/seeds.json

# Published numbers: docs/benchmarks.md (raw JSON in artifacts/bench/). Waits for a quiet
# machine first; BENCH_ARGS="--only service" etc. runs a part.
bench: index
	$(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) index/current index/versions
