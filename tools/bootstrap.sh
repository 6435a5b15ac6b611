# shellcheck shell=bash
# Odoo 19.0 and PostgreSQL for the project's commands, sourced by tools/run.sh,
# tools/test.sh, .ci/run and scripts/*.sh:
#
#   find_odoo_python   sets ODOO_PYTHON (and ODOO_BIN, the Odoo start script):
#                      $ODOO_PYTHON if set; else python3 ($QP_PYTHON) if it imports
#                      Odoo 19.0; else the project's environment .venv/, built on
#                      first use from QP_ODOO_SOURCE (a git URL, a source folder or
#                      a .tar.gz/.tar.xz archive; default: Odoo's 19.0 branch).
#   ensure_postgres    uses the PostgreSQL the user configured (ODOO_RC or
#                      ~/.odoorc db_host/db_port, PGHOST/PGPORT/PGUSER) or the one
#                      answering on the local default port; else starts the
#                      project's own cluster (.pgdata/, or .pgserver/ from the PyPI
#                      package pgserver) on a free port. Exports PGHOST, PGPORT and
#                      PGUSER; stop_postgres stops a cluster ensure_postgres started.
#   qp_odoo ARGS...    runs Odoo with ODOO_PYTHON.

QP_REPO=${QP_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
QP_VENV=${QP_VENV:-$QP_REPO/.venv}
QP_ODOO_SERIES=19.0
QP_ODOO_GIT=https://github.com/odoo/odoo.git

qp_die() {
    echo "error: $*" >&2
    exit 2
}

# Progress of a long step: "qp_step Doing X" ... "qp_done".
qp_step() {
    qp_step_start=$SECONDS
    echo "$* ..."
}

qp_done() {
    echo "  ... done in $((SECONDS - qp_step_start)) s"
}

# The Odoo series an interpreter imports ("19.0"), or nothing.
qp_odoo_series() {
    "$1" -c "import odoo.release; print(odoo.release.serie)" 2>/dev/null
}

qp_port_in_use() {
    (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

find_odoo_python() {
    local series py
    if [ -n "${ODOO_PYTHON:-}" ]; then
        series=$(qp_odoo_series "$ODOO_PYTHON") ||
            qp_die "ODOO_PYTHON=$ODOO_PYTHON cannot import odoo (python -c 'import odoo.release')."
        [ "$series" = "$QP_ODOO_SERIES" ] ||
            qp_die "ODOO_PYTHON=$ODOO_PYTHON has Odoo $series; quote_process needs Odoo $QP_ODOO_SERIES."
    else
        py=${QP_PYTHON:-python3}
        series=$(qp_odoo_series "$py") || true
        if [ "$series" = "$QP_ODOO_SERIES" ]; then
            ODOO_PYTHON=$py
        else
            if [ -n "$series" ]; then
                echo "$py has Odoo $series, not $QP_ODOO_SERIES: using the project's environment $QP_VENV"
            fi
            if [ ! -f "$QP_VENV/.qp-complete" ]; then
                qp_build_venv "$py"
            fi
            ODOO_PYTHON=$QP_VENV/bin/python
            series=$(qp_odoo_series "$ODOO_PYTHON") || true
            [ "$series" = "$QP_ODOO_SERIES" ] ||
                qp_die "$QP_VENV does not import Odoo $QP_ODOO_SERIES (found: ${series:-none}); remove it to rebuild it."
        fi
    fi
    # The interpreter itself, not a wrapper such as a pyenv shim.
    ODOO_PYTHON=$("$ODOO_PYTHON" -c "import sys; print(sys.executable)")
    ODOO_BIN=$(qp_odoo_script)
    export ODOO_PYTHON ODOO_BIN
    QP_ODOO_CMD=("$ODOO_PYTHON" -m odoo)
    if [ -n "$ODOO_BIN" ]; then
        QP_ODOO_CMD=("$ODOO_PYTHON" "$ODOO_BIN")
    fi
}

# Odoo's start script: multi-worker servers respawn from sys.argv, which
# "python -m odoo" does not give them.
qp_odoo_script() {
    local bin
    bin=$(dirname "$ODOO_PYTHON")/odoo
    if [ -f "$bin" ] && head -c 200 "$bin" | grep -q python; then
        echo "$bin"
        return
    fi
    bin=$("$ODOO_PYTHON" -c "import os, odoo; print(os.path.dirname(list(odoo.__path__)[0]))")/odoo-bin
    if [ -f "$bin" ]; then
        echo "$bin"
    fi
}

qp_odoo() {
    "${QP_ODOO_CMD[@]}" "$@"
}

# Build .venv/ with Odoo from QP_ODOO_SOURCE. The stamp .venv/.qp-complete is
# written last: an environment without it is rebuilt, never used.
qp_build_venv() {
    local py=$1 src=${QP_ODOO_SOURCE:-$QP_ODOO_GIT} log series
    "$py" -c "import venv, ensurepip" 2>/dev/null ||
        qp_die "$py has no venv module to create the project's environment: install it" \
            "(Debian/Ubuntu: apt install python3-venv), or set ODOO_PYTHON to a Python with Odoo $QP_ODOO_SERIES."
    echo "No Odoo $QP_ODOO_SERIES for $py: setting one up in $QP_VENV (first time only)"
    rm -rf "$QP_VENV"
    log=$(mktemp -t quote_process_venv.XXXXXX.log)
    # Nothing half-done left behind: a failed build removes the environment.
    trap 'rc=$?; if [ ! -f "$QP_VENV/.qp-complete" ]; then rm -rf "$QP_VENV"; fi; exit $rc' EXIT
    "$py" -m venv "$QP_VENV" >>"$log" 2>&1 || { cat "$log" >&2; qp_die "could not create $QP_VENV with $py -m venv."; }

    local odoo_src
    odoo_src=$(qp_fetch_odoo "$src" "$log") || exit 2
    series=$("$py" -c "exec(open('$odoo_src/odoo/release.py').read()); print(serie)" 2>/dev/null) || true
    [ "$series" = "$QP_ODOO_SERIES" ] ||
        qp_die "QP_ODOO_SOURCE=$src is Odoo ${series:-(unknown)}, not $QP_ODOO_SERIES."

    local pip=("$QP_VENV/bin/python" -m pip --disable-pip-version-check)
    qp_step "Installing Odoo's requirements (Python packages, from wheels)"
    # Current setuptools: the one of a new venv lacks what gevent's websocket
    # worker asks of pkg_resources.
    "${pip[@]}" install --upgrade pip setuptools wheel >>"$log" 2>&1 ||
        qp_pip_failed "$log" "pip and setuptools"
    # psycopg2-binary needs no PostgreSQL headers; python-ldap (LDAP logins
    # only) is tried alone below.
    sed -E -e 's/^psycopg2([=<>~ ;])/psycopg2-binary\1/' -e '/^python-ldap/d' \
        "$odoo_src/requirements.txt" >"$QP_VENV/requirements.txt"
    "${pip[@]}" install -r "$QP_VENV/requirements.txt" >>"$log" 2>&1 ||
        qp_pip_failed "$log" "Odoo's requirements"
    if grep -q '^python-ldap' "$odoo_src/requirements.txt"; then
        grep '^python-ldap' "$odoo_src/requirements.txt" >"$QP_VENV/requirements-ldap.txt"
        "${pip[@]}" install -r "$QP_VENV/requirements-ldap.txt" >>"$log" 2>&1 ||
            echo "  (python-ldap did not install, it needs libldap2-dev and libsasl2-dev: LDAP logins are not available)"
    fi
    # Odoo's source folder on sys.path (a .pth file): Odoo reads odoo.addons'
    # __path__ as folders, which the import hook of a default editable install is not.
    "${pip[@]}" install --no-deps --config-settings editable_mode=compat --editable "$odoo_src" >>"$log" 2>&1 ||
        "${pip[@]}" install --no-deps --editable "$odoo_src" >>"$log" 2>&1 ||
        qp_pip_failed "$log" "Odoo ($odoo_src)"
    "${pip[@]}" install pytest-odoo websocket-client >>"$log" 2>&1 ||
        qp_pip_failed "$log" "the test tools"
    qp_done
    series=$(qp_odoo_series "$QP_VENV/bin/python") || true
    [ "$series" = "$QP_ODOO_SERIES" ] || { cat "$log" >&2; qp_die "$QP_VENV cannot import Odoo after its installation; log above."; }
    echo "$src" >"$QP_VENV/.qp-complete"
    trap - EXIT
    rm -f "$log"
}

# Fetch or unpack Odoo's source; prints the folder it is in.
qp_fetch_odoo() {
    local src=$1 log=$2 dest=$QP_VENV/src/odoo
    case "$src" in
    *.tar.gz | *.tgz | *.tar.xz | *.txz | *.tar.bz2 | *.tar)
        [ -f "$src" ] || qp_die "QP_ODOO_SOURCE=$src: no such archive."
        qp_step "Unpacking Odoo $QP_ODOO_SERIES from $src" >&2
        mkdir -p "$dest"
        tar -xf "$src" -C "$dest" --strip-components=1 || qp_die "could not unpack $src."
        qp_done >&2
        ;;
    *://* | *@*:* | *.git)
        command -v git >/dev/null 2>&1 ||
            qp_die "git is needed to fetch Odoo from $src: install it (Debian/Ubuntu: apt install git)," \
                "or set QP_ODOO_SOURCE to an Odoo source folder or archive."
        qp_step "Fetching Odoo $QP_ODOO_SERIES from $src (branch ${QP_ODOO_BRANCH:-$QP_ODOO_SERIES})" >&2
        git clone --quiet --depth 1 --branch "${QP_ODOO_BRANCH:-$QP_ODOO_SERIES}" "$src" "$dest" >>"$log" 2>&1 ||
            { cat "$log" >&2; qp_die "could not fetch Odoo from $src; git's message above."; }
        qp_done >&2
        ;;
    *)
        [ -d "$src" ] ||
            qp_die "QP_ODOO_SOURCE=$src is neither a git URL, an Odoo source folder nor a .tar.gz/.tar.xz archive."
        dest=$(cd "$src" && pwd)
        echo "Using Odoo's source in $dest" >&2
        ;;
    esac
    if [ ! -f "$dest/odoo/release.py" ] || [ ! -f "$dest/requirements.txt" ]; then
        qp_die "QP_ODOO_SOURCE=$src holds no Odoo source (odoo/release.py, requirements.txt)."
    fi
    echo "$dest"
}

# A pip install failed: name the package and what to do.
qp_pip_failed() {
    local log=$1 what=$2 pkg
    pkg=$(grep -oE "(Failed to build|Failed building wheel for|No matching distribution found for|Could not build wheels for) [A-Za-z0-9_.-]+" "$log" |
        tail -1 | awk '{print $NF}')
    [ -n "$pkg" ] || pkg=$(grep -B30 "subprocess-exited-with-error" "$log" | grep -oE "^Collecting [A-Za-z0-9_.-]+" | tail -1 | awk '{print $2}')
    tail -25 "$log" >&2
    echo >&2
    if [ -n "$pkg" ]; then
        qp_die "installing $what failed at the Python package '$pkg' (full log: $log)." \
            "It has no wheel for this Python and needs building from source: install a C compiler and" \
            "Python's headers (Debian/Ubuntu: apt install build-essential python3-dev) and the library" \
            "headers its error names (for instance libpq-dev, libxml2-dev, libldap2-dev), or use a Python" \
            "version for which '$pkg' publishes wheels (QP_PYTHON=python3.X), then run the command again."
    fi
    qp_die "installing $what failed (full log: $log); see the end of the log above."
}

# True when the user has said where PostgreSQL is.
qp_pg_configured() {
    local rc=${ODOO_RC:-$HOME/.odoorc}
    [ -n "${PGHOST:-}${PGPORT:-}${PGUSER:-}" ] && return 0
    [ -f "$rc" ] && grep -qE '^[[:space:]]*db_(host|port)[[:space:]]*=[[:space:]]*[^[:space:]]' "$rc" &&
        ! grep -qE '^[[:space:]]*db_(host|port)[[:space:]]*=[[:space:]]*False[[:space:]]*$' "$rc"
}

# True when a server answers on the local default port.
qp_pg_local_default() {
    local dir
    qp_port_in_use 5432 && return 0
    for dir in /var/run/postgresql /tmp; do
        [ -S "$dir/.s.PGSQL.5432" ] && return 0
    done
    return 1
}

# Directory of initdb/pg_ctl/postgres: QP_PG_BINDIR, else the machine's, else
# none (then pgserver's, see qp_pgserver_bindir; QP_PG_BINDIR=pgserver forces it).
qp_pg_bindir() {
    local bin
    if [ -n "${QP_PG_BINDIR:-}" ]; then
        [ "$QP_PG_BINDIR" != pgserver ] || return 1
        echo "$QP_PG_BINDIR"
        return
    fi
    if bin=$(command -v pg_ctl) && command -v initdb >/dev/null; then
        dirname "$(readlink -f "$bin")"
        return
    fi
    bin=$(find /usr/lib/postgresql -path '*/bin/pg_ctl' 2>/dev/null | sort -V | tail -1)
    if [ -n "$bin" ]; then
        dirname "$bin"
        return
    fi
    return 1
}

# pgserver (PostgreSQL in a wheel) installed under .pgserver/; prints its bindir.
qp_pgserver_bindir() {
    local target=$QP_REPO/.pgserver/pkg py=${ODOO_PYTHON:-${QP_PYTHON:-python3}}
    if [ ! -x "$target/pgserver/pginstall/bin/pg_ctl" ]; then
        qp_step "Installing PostgreSQL (the Python package pgserver) into $QP_REPO/.pgserver" >&2
        rm -rf "$target"
        PIP_ROOT_USER_ACTION=ignore "$py" -m pip install --disable-pip-version-check --quiet --no-deps \
            --target "$target" pgserver >&2 ||
            qp_die "no PostgreSQL found (no initdb/pg_ctl on PATH) and pgserver did not install:" \
                "install PostgreSQL (Debian/Ubuntu: apt install postgresql) or configure one (PGHOST/PGPORT/PGUSER)."
        qp_done >&2
    fi
    echo "$target/pgserver/pginstall/bin"
}

# Run a PostgreSQL program as the cluster's owner (not root: PostgreSQL refuses).
qp_as_pg() {
    if [ "$(id -u)" = 0 ]; then
        (cd / && runuser -u "$QP_PG_OWNER" -- "$@")
    else
        "$@"
    fi
}

ensure_postgres() {
    if [ -z "${QP_PG_EMBEDDED:-}" ]; then
        if qp_pg_configured; then
            return
        fi
        if qp_pg_local_default; then
            echo "Using the PostgreSQL server on the local default port 5432"
            return
        fi
    fi
    local bindir data
    if [ -n "${QP_PG_BINDIR:-}" ] && [ "$QP_PG_BINDIR" != pgserver ] && [ ! -x "$QP_PG_BINDIR/pg_ctl" ]; then
        qp_die "QP_PG_BINDIR=$QP_PG_BINDIR has no pg_ctl."
    fi
    if bindir=$(qp_pg_bindir); then
        data=${QP_PG_DATA:-$QP_REPO/.pgdata}
    else
        bindir=$(qp_pgserver_bindir) || exit 2
        data=${QP_PG_DATA:-$QP_REPO/.pgserver/data}
    fi
    QP_PG_BIN=$bindir
    QP_PG_DATADIR=$data
    QP_PG_OWNER=$(id -un)
    if [ "$(id -u)" = 0 ]; then
        QP_PG_OWNER=postgres
        id postgres >/dev/null 2>&1 || QP_PG_OWNER=nobody
    fi

    if [ ! -f "$data/PG_VERSION" ]; then
        qp_step "Creating the PostgreSQL cluster in $data"
        rm -rf "$data"
        mkdir -p "$data"
        chmod 700 "$data"
        if [ "$(id -u)" = 0 ]; then chown "$QP_PG_OWNER" "$data"; fi
        qp_as_pg "$bindir/initdb" -D "$data" -U odoo --auth=trust -E UTF8 --locale=C >"$data.initdb.log" 2>&1 ||
            { cat "$data.initdb.log" >&2; rm -rf "$data"; qp_die "initdb failed; its output above."; }
        rm -f "$data.initdb.log"
        qp_done
    fi
    local version
    version=$("$bindir/pg_ctl" --version | sed -E 's/.* ([0-9]+)[.0-9]*.*/\1/')
    if [ "$(cat "$data/PG_VERSION")" != "$version" ]; then
        qp_die "the PostgreSQL cluster in $data is of PostgreSQL $(cat "$data/PG_VERSION"), the programs" \
            "in $bindir of PostgreSQL $version: remove $data (its databases are lost), or set" \
            "QP_PG_BINDIR to the programs of PostgreSQL $(cat "$data/PG_VERSION")."
    fi
    if [ "$(id -u)" = 0 ]; then chown -R "$QP_PG_OWNER" "$data"; fi

    local pid port
    if [ -f "$data/postmaster.pid" ]; then
        pid=$(head -1 "$data/postmaster.pid")
        # Alive, and a postmaster of this data directory (its working directory).
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
            [ "$(readlink "/proc/$pid/cwd")" = "$(cd "$data" && pwd -P)" ]; then
            port=$(sed -n 4p "$data/postmaster.pid")
            echo "PostgreSQL of the project already running (pid $pid) on 127.0.0.1:$port"
            export PGHOST=127.0.0.1 PGPORT=$port PGUSER=odoo
            return
        fi
        echo "Removing the stale lock $data/postmaster.pid of a PostgreSQL that did not stop (pid $pid)"
        rm -f "$data/postmaster.pid"
    fi

    if [ -n "${QP_PG_PORT:-}" ]; then
        port=$QP_PG_PORT
        ! qp_port_in_use "$port" ||
            qp_die "port $port (QP_PG_PORT) is in use: choose another or leave QP_PG_PORT unset."
    else
        port=54320
        while qp_port_in_use "$port"; do port=$((port + 1)); done
    fi
    qp_step "Starting PostgreSQL on 127.0.0.1:$port (data in $data)"
    # Its own session: Ctrl+C in the terminal reaches Odoo, which still needs
    # the database to stop cleanly; stop_postgres stops it afterwards.
    if ! qp_as_pg setsid "$bindir/pg_ctl" -D "$data" -l "$data/postgres.log" -w -t 60 start -o \
        "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        >/dev/null; then
        tail -20 "$data/postgres.log" >&2
        qp_die "PostgreSQL did not start; its log above ($data/postgres.log)."
    fi
    qp_done
    QP_PG_STARTED=1
    export PGHOST=127.0.0.1 PGPORT=$port PGUSER=odoo
}

stop_postgres() {
    if [ -n "${QP_PG_STARTED:-}" ]; then
        echo "Stopping PostgreSQL"
        qp_as_pg "$QP_PG_BIN/pg_ctl" -D "$QP_PG_DATADIR" -m fast -w stop >/dev/null 2>&1 ||
            qp_as_pg "$QP_PG_BIN/pg_ctl" -D "$QP_PG_DATADIR" -m immediate stop >/dev/null 2>&1 || true
        QP_PG_STARTED=
    fi
}
