.PHONY: run test lint readme odoo-suites bench replica

# The interpreter that runs the linters and the README generator (CI passes the
# one that runs Odoo).
PYTHON ?= python3

# Start Odoo on a local database with quote_process and demo data.
run:
	./tools/run.sh

# Run the whole test suite on a fresh, throwaway database.
test:
	./tools/test.sh

# Run Odoo's own tests of sale, sale_management, sale_crm and crm beside
# quote_process; fails on any test that passes only without the addon.
odoo-suites:
	./tools/odoo_suites.sh

# Check on a real read replica (a hot standby of our own) that the read-only
# calls of quote_process run there and its changes on the primary.
replica:
	./tools/replica.sh

# Run every benchmark (benchmarks/) on throwaway copies of two benchmark
# databases and print one table with the targets beside the figures.
bench:
	./tools/bench.sh

lint:
	$(PYTHON) -m ruff check quote_process
	$(PYTHON) -m ruff format --check quote_process
	$(PYTHON) -m pylint --rcfile=.pylintrc-mandatory quote_process
	$(PYTHON) tools/gen_addon_readme.py --check quote_process

# Generate quote_process/README.rst from its readme/*.md fragments.
readme:
	$(PYTHON) tools/gen_addon_readme.py quote_process
