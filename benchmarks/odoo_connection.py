"""How the benchmark scripts reach PostgreSQL and Odoo.

As the README says: the Odoo config file (``-c``, else ``ODOO_RC``, else
``~/.odoorc``) and the ``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGPASSWORD``
variables, which Odoo reads itself; ``--db_host``, ``--db_port``,
``--db_user`` and ``--db_password`` override them. Nothing else is assumed of
the machine.
"""

import argparse
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CONNECTION_OPTIONS = ("db_host", "db_port", "db_user", "db_password")


def comparison_parser(description):
    """The parser of a benchmark against Odoo alone: the database with
    quote_process (``-d``) and the one without it (``--odoo-database``)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "-d", "--database", required=True, help="database with quote_process"
    )
    parser.add_argument(
        "--odoo-database",
        required=True,
        help="database with sale_management and sale_crm, without quote_process",
    )
    return parser


def add_connection_arguments(parser):
    """The connection options every benchmark accepts (both spellings:
    ``--db_host`` as Odoo has it, ``--db-host``)."""
    group = parser.add_argument_group(
        "connection",
        "default: the Odoo config file (-c, ODOO_RC or ~/.odoorc) and the "
        "PGHOST, PGPORT, PGUSER, PGPASSWORD variables",
    )
    group.add_argument("-c", "--config", help="Odoo config file")
    for name in CONNECTION_OPTIONS:
        group.add_argument(
            f"--{name}", f"--{name.replace('_', '-')}", dest=name, default=None
        )
    group.add_argument(
        "--addons-path",
        default=None,
        help="addons path holding quote_process (default: this repository, "
        "after the config file's)",
    )
    return parser


def connection_cli(args):
    """The connection options given on the command line, to pass on to another
    benchmark script."""
    cli = []
    if args.config:
        cli += ["--config", args.config]
    for name in CONNECTION_OPTIONS:
        value = getattr(args, name)
        if value:
            cli += [f"--{name}", str(value)]
    if args.addons_path:
        cli += ["--addons-path", args.addons_path]
    return cli


def odoo_options(args):
    """Options for ``odoo.tools.config.parse_config``: only what was given, so
    that Odoo reads its config file and the PG* variables for the rest."""
    from odoo.tools import config  # noqa: PLC0415

    options = ["--log-level", "warn"]
    if args.config:
        options += ["--config", args.config]
    for name in CONNECTION_OPTIONS:
        value = getattr(args, name)
        if value:
            options += [f"--{name}", str(value)]
    addons_path = args.addons_path
    if not addons_path:
        # The config file's addons path, then this repository.
        config.parse_config(options[:], setup_logging=False)
        configured = config.get("addons_path") or []
        if isinstance(configured, str):
            configured = [configured]
        paths = [str(path) for path in configured if str(path) != str(REPO)]
        addons_path = ",".join([*paths, str(REPO)])
    return [*options, "--addons-path", addons_path]


def setup_odoo(args):
    """Parse Odoo's configuration for the benchmark."""
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(odoo_options(args), setup_logging=True)
    return config
