# make book: build the HTML book from the stored notebook outputs (offline, no execution).
# make test: ruff, pytest and nbval (notebooks run in the smoke profile).
# Both create .venv on first use.

VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= cpu
NB ?= book
ARCH := $(shell uname -m)
# Datasets: $ALEXNET_LAB_DATA if set, else ../shared/data when it sits beside the repo.
ifeq ($(ALEXNET_LAB_DATA),)
ifneq ($(wildcard ../shared/data),)
export ALEXNET_LAB_DATA := $(abspath ../shared/data)
endif
endif
ifeq ($(ARCH),x86_64)
TORCH_PIN := torch==2.14.1 torchvision==0.29.1
endif

LINTED := alexnet_lab tests $(wildcard bench)

.PHONY: book test lint execute clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_PIN) -e '.[dev]'
	touch $@

book: $(VENV)/.installed
	$(VENV)/bin/jupyter-book build . --warningiserror --nitpick --keep-going

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

test: lint
	$(PY) -m pytest tests
	ALEXNET_LAB_PROFILE=smoke $(PY) -m pytest --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=600 -p no:cacheprovider book

# Re-run the notebooks in place in one profile, to refresh the outputs readers see:
#   make execute PROFILE=cpu NB=book/01_at_a_glance.ipynb
execute: $(VENV)/.installed
	ALEXNET_LAB_PROFILE=$(PROFILE) $(PY) -m alexnet_lab.chapters.execute $(NB)

clean:
	rm -rf _build
