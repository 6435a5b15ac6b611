.PHONY: run test lint readme

# Start Odoo on a local database with quote_process and demo data.
run:
	./tools/run.sh

# Run the whole test suite on a fresh, throwaway database.
test:
	./tools/test.sh

lint:
	ruff check quote_process
	ruff format --check quote_process
	pylint --rcfile=.pylintrc-mandatory quote_process
	python3 tools/gen_addon_readme.py --check quote_process

# Generate quote_process/README.rst from its readme/*.md fragments.
readme:
	python3 tools/gen_addon_readme.py quote_process
