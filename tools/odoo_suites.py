#!/usr/bin/env python3
"""Run Odoo's own tests of its sales apps beside quote_process.

Installs quote_process next to sale, sale_management, sale_crm and crm on a
throwaway database, runs the tests of those apps there with pytest-odoo (the
full registry loaded, so that at_install tests too run with quote_process),
re-runs the failures on a throwaway database without quote_process, and prints
``N passed, N failed``: failed counts the tests that pass without the addon and
fail with it. Tests listed in tools/odoo_suites_expected.txt (a person does what
the addon refuses on purpose) must still fail with the rule's message; they are
counted apart. Tests that fail without the addon too are listed with their
cause, not counted. A test that fails with the addon and passes without it
runs once more, alone, with the addon (a browser tour may time out while the
other test processes load the machine); if it passes then, it is listed apart
and not counted. Exits non-zero on any counted failure.

The two databases are installed side by side, and the tests run in
QP_SUITES_JOBS parallel pytest processes (default: the number of cores, at
most 4), each on its own copy of the database with quote_process and its own
HTTP port, the test files shared out by size.

Database connection: the usual PG* environment variables. Options through the
environment: QP_SUITES_HTTP_PORT (default 8169; the processes take the ports
from there on), QP_SUITES_JOBS, QP_SUITES_KEEP_DB=1 to keep the databases,
QP_SUITES_TESTS to run only some test paths (space separated, relative to
Odoo's addons folder).

Other sales apps: QP_SUITES_APPS, the apps installed on both databases and
whose tests run (space or comma separated; default "sale sale_management
sale_crm crm"; their dependencies are installed with them), and
QP_SUITES_ADDONS, the addons folder of a full Odoo source that holds them
(default: the addons folder of the Odoo that runs this script; it comes first
in the addons path, before this repository). For example:

    QP_SUITES_ADDONS=/opt/odoo19-full/addons \
    QP_SUITES_APPS="sale_loyalty sale_stock delivery" make odoo-suites
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import odoo
from odoo.tools import config

DEFAULT_APPS = ["sale", "sale_management", "sale_crm", "crm"]
ADDON = "quote_process"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPECTED_FILE = os.path.join(REPO, "tools", "odoo_suites_expected.txt")


def odoo_addons_dir():
    """The addons folder whose apps are installed and tested: QP_SUITES_ADDONS,
    or the one of the Odoo that runs this script."""
    folder = os.environ.get("QP_SUITES_ADDONS")
    if folder:
        folder = os.path.abspath(os.path.expanduser(folder))
        if not os.path.isdir(folder):
            sys.exit(f"error: QP_SUITES_ADDONS={folder} is not a folder")
        return folder
    config.parse_config([], setup_logging=False)
    return config.addons_community_dir


def suite_apps():
    """The apps installed beside quote_process: QP_SUITES_APPS or the default."""
    apps = os.environ.get("QP_SUITES_APPS", "").replace(",", " ").split()
    return apps or list(DEFAULT_APPS)


def write_config(workdir, addons_dir, job=0):
    path = os.path.join(workdir, f"odoo{job}.conf")
    options = {
        "addons_path": f"{addons_dir},{REPO}",
        "data_dir": os.path.join(workdir, "filestore"),
        "db_host": os.environ.get("PGHOST", ""),
        "db_port": os.environ.get("PGPORT", ""),
        "db_user": os.environ.get("PGUSER", ""),
        "db_password": os.environ.get("PGPASSWORD", ""),
        "http_port": str(int(os.environ.get("QP_SUITES_HTTP_PORT", "8169")) + job),
        "workers": "0",
        "max_cron_threads": "0",
    }
    with open(path, "w", encoding="utf-8") as f:
        f.write("[options]\n")
        for key, value in options.items():
            if value:  # an unset PG* variable: Odoo's default, not an empty value
                f.write(f"{key} = {value}\n")
    return path


def start_install(db, modules, conf, log):
    cmd = [
        sys.executable,
        "-m",
        "odoo",
        "--config",
        conf,
        "--database",
        db,
        "--init",
        ",".join(modules),
        "--stop-after-init",
        "--no-http",
    ]
    with open(log, "w", encoding="utf-8") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)


def install_both(installs):
    """Install each (db, modules, conf, log) at the same time; exit on a failure."""
    running = [(start_install(*args), args) for args in installs]
    for process, (db, modules, _conf, log) in running:
        if process.wait():
            sys.exit(f"error: installing {modules} on {db} failed; see {log}")


def duplicate(db, copy, conf):
    rc = subprocess.call(
        [sys.executable, "-m", "odoo", "db", "--config", conf, "duplicate", db, copy],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    if rc:
        sys.exit(f"error: could not copy the database {db} to {copy}")


def drop(db, conf):
    subprocess.call(
        [sys.executable, "-m", "odoo", "db", "--config", conf, "drop", db],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_pytest(db, conf, targets, junit, log, addons_dir):
    # -P: the addons folder is not put on sys.path, where Odoo's addons such
    # as calendar would shadow Python's own modules.
    cmd = [
        sys.executable,
        "-P",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        f"--odoo-database={db}",
        f"--odoo-config={conf}",
        "--odoo-http",
        f"--junitxml={junit}",
        *targets,
    ]
    with open(log, "w", encoding="utf-8") as out:
        return subprocess.Popen(
            cmd, cwd=addons_dir, stdout=out, stderr=subprocess.STDOUT
        )


def run_pytest(runs, addons_dir):
    """Run pytest for each (db, conf, targets, junit, log) at the same time."""
    processes = [start_pytest(*run, addons_dir) for run in runs]
    results = {}
    for process, run in zip(processes, runs, strict=True):
        process.wait()
        results.update(parse_junit(run[3]))
    return results


def run_jobs(db, groups, label, confs, workdir, addons_dir):
    """Run each group of tests on its copy of ``db`` (``db``, ``db_1``, ...)."""
    return run_pytest(
        [
            (
                f"{db}_{job}" if job else db,
                confs[job],
                group,
                f"{workdir}/{label}{job}.xml",
                f"{workdir}/{label}{job}.log",
            )
            for job, group in enumerate(groups)
        ],
        addons_dir,
    )


def share_out(targets, addons_dir, jobs):
    """The test files of targets (folders, files or test ids) in at most jobs
    groups of about the same size; the tests of one file stay together."""
    by_file = {}
    for target in targets:
        path = os.path.join(addons_dir, target)
        if os.path.isdir(path):
            found = glob.glob(os.path.join(path, "**", "test_*.py"), recursive=True)
            for name in sorted(found):
                by_file.setdefault(os.path.relpath(name, addons_dir), []).append(
                    os.path.relpath(name, addons_dir)
                )
        else:
            by_file.setdefault(target.split("::")[0], []).append(target)
    groups = [[] for _i in range(max(1, min(jobs, len(by_file))))]
    sizes = [0] * len(groups)
    weight = {f: os.path.getsize(os.path.join(addons_dir, f)) for f in by_file}
    for name in sorted(by_file, key=lambda f: -weight[f]):
        smallest = sizes.index(min(sizes))
        groups[smallest] += by_file[name]
        sizes[smallest] += weight[name]
    return groups


def parse_junit(junit):
    """{test id: (outcome, message)} with outcome passed, failed or skipped."""
    results = {}
    if not os.path.exists(junit):
        return results
    for case in ET.parse(junit).getroot().iter("testcase"):
        if not case.get("classname") or not case.get("name"):
            continue  # a collection error, reported in pytest's log
        module, _, klass = case.get("classname", "").rpartition(".")
        # pytest names modules from its root directory ("addons.sale.tests...");
        # the ids are relative to the addons folder ("sale/tests/...").
        path = re.sub(r"^.*?(\w+/tests/)", r"\1", module.replace(".", "/"))
        test_id = f"{path}.py::{klass}::{case.get('name')}"
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
                message = (child.get("message") or "") + "\n" + (child.text or "")
            elif child.tag == "skipped":
                outcome = "skipped"
        if outcome == "failed" or test_id not in results:
            results[test_id] = (outcome, message)
    return results


def read_expected():
    expected = {}
    if not os.path.exists(EXPECTED_FILE):
        return expected
    with open(EXPECTED_FILE, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            test_id, _, rule = line.partition(" ")
            expected[test_id] = rule.strip()
    return expected


def cause(message):
    """The last exception line of a failure, as a short cause."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    for line in reversed(lines):
        if re.match(r"^[\w.]+(Error|Exception|Failure)\b", line) or "Error:" in line:
            return line[:200]
    return (lines[-1] if lines else "")[:200]


def main():
    start = time.monotonic()
    addons_dir = odoo_addons_dir()
    apps = suite_apps()
    for app in apps:
        if not os.path.isfile(os.path.join(addons_dir, app, "__manifest__.py")):
            sys.exit(f"error: no app {app} in {addons_dir}")
    workdir = tempfile.mkdtemp(prefix="quote_process_suites.")
    stamp = time.strftime("%Y%m%d%H%M%S")
    db_with = f"qp_suites_with_{stamp}_{os.getpid()}"
    db_without = f"qp_suites_without_{stamp}_{os.getpid()}"
    targets = os.environ.get("QP_SUITES_TESTS", "").split() or [
        f"{app}/tests"
        for app in apps
        if os.path.isdir(os.path.join(addons_dir, app, "tests"))
    ]
    jobs = int(os.environ.get("QP_SUITES_JOBS") or min(4, os.cpu_count() or 1))
    groups = share_out(targets, addons_dir, jobs)
    confs = [write_config(workdir, addons_dir, job) for job in range(len(groups))]
    copies = [f"_{job}" if job else "" for job in range(len(groups))]
    print(f"Odoo {odoo.release.version} ({addons_dir}), apps {', '.join(apps)}")
    print(f"Tests of {', '.join(targets)}")
    print(f"Work files in {workdir}; {len(groups)} test processes")
    try:
        install_both(
            [
                (db_with, [*apps, ADDON], confs[0], f"{workdir}/install_with.log"),
                (db_without, apps, confs[0], f"{workdir}/install_without.log"),
            ]
        )
        for copy in copies[1:]:
            duplicate(db_with, db_with + copy, confs[0])
            duplicate(db_without, db_without + copy, confs[0])
        print(f"Databases installed in {time.monotonic() - start:.0f}s")
        with_addon = run_jobs(db_with, groups, "with", confs, workdir, addons_dir)
        if not with_addon:
            sys.exit(f"error: no test ran; see {workdir}/with0.log")
        failed_with = sorted(t for t, (o, _m) in with_addon.items() if o == "failed")
        without_addon, passed_again = {}, []
        if failed_with:
            without_addon = run_jobs(
                db_without,
                share_out(failed_with, addons_dir, len(groups)),
                "without",
                confs,
                workdir,
                addons_dir,
            )
        expected = read_expected()
        suspects = [
            t
            for t in failed_with
            if t not in expected
            and without_addon.get(t, ("missing", ""))[0] == "passed"
        ]
        if suspects:
            # Browser tours wait at most 10 s a step: with the test processes
            # side by side on a busy machine, one may time out. Each suspect
            # runs again, alone, on the database with quote_process.
            again = run_pytest(
                [
                    (
                        db_with,
                        confs[0],
                        suspects,
                        f"{workdir}/again.xml",
                        f"{workdir}/again.log",
                    )
                ],
                addons_dir,
            )
            for test_id in suspects:
                if again.get(test_id, ("missing", ""))[0] == "passed":
                    passed_again.append((test_id, cause(with_addon[test_id][1])))
    finally:
        if not os.environ.get("QP_SUITES_KEEP_DB"):
            for copy in copies:
                drop(db_with + copy, confs[0])
                drop(db_without + copy, confs[0])
    regressions, also_without, expected_ok, expected_bad = [], [], [], []
    for test_id in failed_with:
        message = with_addon[test_id][1]
        outcome_without = without_addon.get(test_id, ("missing", ""))[0]
        if outcome_without != "passed":
            also_without.append(
                (test_id, cause(without_addon.get(test_id, ("", message))[1]))
            )
        elif test_id in expected:
            if expected[test_id] in message:
                expected_ok.append(test_id)
            else:
                expected_bad.append((test_id, cause(message)))
        elif test_id not in dict(passed_again):
            regressions.append((test_id, cause(message)))
    for test_id in expected:
        if test_id not in with_addon:
            continue  # not in this run (QP_SUITES_APPS, QP_SUITES_TESTS)
        if test_id not in failed_with and test_id not in dict(expected_bad):
            expected_bad.append((test_id, "no longer fails with the addon's rule"))
    passed = sum(1 for outcome, _m in with_addon.values() if outcome == "passed")
    if also_without:
        print(f"\nFailing without {ADDON} too (not counted):")
        for test_id, why in also_without:
            print(f"  {test_id}: {why}")
    if expected_ok:
        print(f"\nRefused on purpose by {ADDON} (tools/odoo_suites_expected.txt):")
        for test_id in expected_ok:
            print(f"  {test_id}: {expected[test_id]}")
    if passed_again:
        print(
            "\nFailed beside the other tests, passed when run again alone (not counted):"
        )
        for test_id, why in passed_again:
            print(f"  {test_id}: {why}")
    failures = regressions + expected_bad
    if failures:
        print(f"\nPass without {ADDON}, fail with it:")
        for test_id, why in failures:
            print(f"  {test_id}: {why}")
    print(
        f"\n{len(with_addon)} tests in {time.monotonic() - start:.0f}s; "
        f"{len(expected_ok)} expected, {len(also_without)} failing without the "
        "addon too"
    )
    passed += len(passed_again)
    print(f"{passed} passed, {len(failures)} failed")
    if failures:
        print(f"Logs in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
