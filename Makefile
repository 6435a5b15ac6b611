.PHONY: run test lint odoo-suites

# Start Odoo on a local database with quote_process and demo data.
run:
	./tools/run.sh

# Run the whole test suite on a fresh, throwaway database.
test:
	./tools/test.sh

# Run Odoo's own tests of sale, sale_management, sale_crm and crm beside
# quote_process; fails on any test that passes only without the addon.
odoo-suites:
	python3 tools/odoo_suites.py

lint:
	ruff check quote_process
	ruff format --check quote_process
	pylint --rcfile=.pylintrc-mandatory quote_process
