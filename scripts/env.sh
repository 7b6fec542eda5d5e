# shellcheck shell=bash
# Shared bootstrap for `make demo` and `make test`: Odoo, Python packages,
# PostgreSQL and an Odoo configuration file. Source it; it defines functions.
#
#   ROOT        the project folder
#   CACHE       $ROOT/.cache: private PostgreSQL cluster, filestore, config
#   ODOO_CONF   the generated Odoo configuration file

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
CACHE="${WAVE_CACHE_DIR:-$ROOT/.cache}"
ODOO_CONF="$CACHE/odoo.conf"
PYTHON="${PYTHON:-python3}"
# The Odoo 18.0 build tested with queue_job 18.0.3.1.2 (README, "Requirements"): Odoo's
# official nightly source archive of 2025-05-06. ODOO_SOURCE_URL replaces it (another
# build, or a mirror once nightly.odoo.com no longer keeps this one).
ODOO_TESTED_BUILD="18.0-20250506"
ODOO_SOURCE_URL="${ODOO_SOURCE_URL:-https://nightly.odoo.com/18.0/nightly/src/odoo_18.0.20250506.tar.gz}"
mkdir -p "$CACHE"

say() { printf '\033[1m[wave]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[wave] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }

odoo_importable() {
    "$PYTHON" - <<'EOF' 2>/dev/null
import odoo.release
assert odoo.release.version_info[0] == 18, odoo.release.version
EOF
}

# Odoo 18 must be importable by the machine's python3 (no venv hides it). When
# it is not, install Odoo's official 18.0 source (the tested build), except in CI,
# which must be given an Odoo and fails loudly without one.
ensure_odoo() {
    if odoo_importable; then
        local build
        build="$("$PYTHON" -c 'import odoo.release as r; print(r.version)' 2>/dev/null)"
        [ "$build" = "$ODOO_TESTED_BUILD" ] \
            || say "Odoo $build is not the tested build $ODOO_TESTED_BUILD (README, 'Requirements'): running on it all the same"
        return 0
    fi
    if [ -n "${CI:-}" ]; then
        die "Odoo 18 is not importable by $PYTHON. Install Odoo 18.0 (its requirements.txt, then 'pip install -e <odoo-src> --config-settings editable_mode=compat') and run again."
    fi
    say "Odoo 18 is not importable by $PYTHON: installing Odoo's official 18.0 source, build $ODOO_TESTED_BUILD ($ODOO_SOURCE_URL)"
    # one folder per source URL: a changed ODOO_SOURCE_URL never reuses another build's tree
    local src
    src="$CACHE/odoo-src/$(printf %s "$ODOO_SOURCE_URL" | sha1sum | cut -c1-12)"
    mkdir -p "$src"
    if ! timeout 900 "$PYTHON" - "$ODOO_SOURCE_URL" "$src" <<'EOF'; then
import sys, tarfile, urllib.request
url, dest = sys.argv[1:]
with urllib.request.urlopen(url, timeout=60) as response:
    with tarfile.open(fileobj=response, mode="r|gz") as archive:
        archive.extractall(dest)
EOF
        die "Could not download Odoo 18.0 from $ODOO_SOURCE_URL (offline?). Install Odoo 18.0 Community so that 'python3 -c \"import odoo\"' works (see README, 'Requirements'), then run again."
    fi
    local tree
    tree=$(find "$src" -maxdepth 1 -mindepth 1 -type d | head -n 1)
    echo 'setuptools<70' > "$CACHE/build-constraints.txt"
    PIP_CONSTRAINT="$CACHE/build-constraints.txt" "$PYTHON" -m pip install -q -r "$tree/requirements.txt" \
        || die "Installing Odoo's requirements failed (see above)."
    PIP_CONSTRAINT="$CACHE/build-constraints.txt" "$PYTHON" -m pip install -q --no-deps -e "$tree" \
        --config-settings editable_mode=compat || die "Installing Odoo failed (see above)."
    odoo_importable || die "Odoo was installed but still cannot be imported."
}

# The project's Python packages, installed once per version of requirements.txt.
ensure_python_packages() {
    local stamp
    stamp="$CACHE/requirements.$(sha1sum "$ROOT/requirements.txt" | cut -c1-12).ok"
    [ -f "$stamp" ] && return 0
    say "Installing Python packages from requirements.txt"
    echo 'setuptools<70' > "$CACHE/build-constraints.txt"
    PIP_CONSTRAINT="$CACHE/build-constraints.txt" "$PYTHON" -m pip install -q -r "$ROOT/requirements.txt" \
        || die "pip could not install requirements.txt"
    touch "$stamp"
}

pg_ready() { pg_isready -q -h "$PGHOST" -p "$PGPORT" >/dev/null 2>&1; }

# PostgreSQL: the server the PG* variables name; else, as root on Debian, the
# installed cluster (started with pg_ctlcluster) and an `odoo` role; else a
# private throwaway cluster under $CACHE/pg.
ensure_postgres() {
    PATH="$PATH:$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    export PATH
    if [ -n "${PGHOST:-}" ]; then
        export PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-odoo}"
        pg_ready || die "PGHOST=$PGHOST is set but no PostgreSQL answers on port $PGPORT."
        say "Using PostgreSQL at $PGHOST:$PGPORT as $PGUSER"
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null && [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
        local version cluster port
        read -r version cluster port _ < <(pg_lsclusters -h | head -n 1)
        pg_ctlcluster "$version" "$cluster" start >/dev/null 2>&1 || true
        export PGHOST=127.0.0.1 PGPORT="$port" PGUSER=odoo PGPASSWORD="${PGPASSWORD:-odoo}"
        for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
        pg_ready || die "PostgreSQL $version/$cluster did not start (see /var/log/postgresql)."
        # Odoo refuses to run as the `postgres` superuser: use a dedicated role.
        (cd / && su postgres -c "env -u PGHOST -u PGUSER -u PGPASSWORD psql -q -p $port -d postgres -v ON_ERROR_STOP=1" >/dev/null) <<SQL || die "Could not create the odoo role in PostgreSQL."
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'odoo') THEN
    CREATE ROLE odoo LOGIN SUPERUSER;
  END IF;
END \$\$;
ALTER ROLE odoo WITH LOGIN SUPERUSER PASSWORD '$PGPASSWORD';
SQL
        say "Using the system PostgreSQL cluster $version/$cluster on port $port"
        return 0
    fi
    local data="$CACHE/pg/data" sock="$CACHE/pg"
    export PGHOST="$sock" PGPORT="${WAVE_PG_PORT:-55432}" PGUSER=odoo
    if [ ! -f "$data/PG_VERSION" ]; then
        command -v initdb >/dev/null || die "PostgreSQL is not installed: install it (e.g. apt-get install postgresql) or set PGHOST."
        initdb -q -D "$data" -U odoo --auth=trust >/dev/null || die "initdb failed"
    fi
    if ! pg_ready; then
        pg_ctl -s -D "$data" -l "$CACHE/pg/server.log" -w \
            -o "-k $sock -p $PGPORT -c listen_addresses=''" start || die "PostgreSQL failed to start (see $CACHE/pg/server.log)"
    fi
    say "Using the private PostgreSQL cluster in $data"
}

# The Odoo configuration for this project: its addons next to Odoo's.
write_odoo_conf() {
    local http_port="${1:-8069}"
    cat > "$ODOO_CONF" <<EOF
[options]
addons_path = $ROOT
data_dir = $CACHE/data
db_host = $PGHOST
db_port = $PGPORT
db_user = $PGUSER
db_password = ${PGPASSWORD:-False}
http_port = $http_port
admin_passwd = ${WAVE_MASTER_PASSWORD:-wave-demo-master}
list_db = False
without_demo = all
server_wide_modules = base,web,queue_job
log_level = warn

[queue_job]
channels = root:2,root.wave:2,root.wave.webhook:1,root.wave.inbound:1,root.wave.outbound:1,root.wave.import:1
EOF
}

# Odoo's own entry point: the `odoo` console script installed beside the
# interpreter, else `odoo-bin` of the source tree. Never `python -m odoo`: a
# multi-worker server re-launches its real-time (gevent) process from
# sys.argv[0], which is then odoo/__main__.py and fails in a loop.
odoo_entry_point() {
    "$PYTHON" - <<'PY'
import os, shutil, sys
import odoo
script = os.path.join(os.path.dirname(sys.executable), "odoo")
if not os.access(script, os.X_OK):
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(odoo.__file__))), "odoo-bin")
if not os.access(script, os.X_OK):
    script = shutil.which("odoo") or ""
print(script)
PY
}
odoo_bin() {
    local entry
    entry="$(odoo_entry_point)"
    [ -n "$entry" ] || die "Neither the 'odoo' console script nor odoo-bin was found for $PYTHON."
    "$entry" "$@"
}

# Create database $1 with Odoo's apps the addon depends on (account, sale,
# purchase, queue_job) but not the addon itself. The first call for a given Odoo
# build keeps a copy (wave_cache_base_<key>) that later calls clone in seconds;
# the key changes with Odoo's version, its source and queue_job's version.
BASE_MODULES="account,sale,purchase,queue_job"
base_cache_name() {
    "$PYTHON" - "$BASE_MODULES" <<'PY'
import hashlib, os, sys
import odoo, odoo.release
from importlib.metadata import version
root = os.path.dirname(os.path.abspath(odoo.__file__))
digest = hashlib.sha1(sys.argv[1].encode())
digest.update(odoo.release.serie.encode() + str(odoo.release.version_info).encode())
digest.update(version("odoo-addon-queue_job").encode())
for name in ("release.py", "addons/base/__manifest__.py"):
    with open(os.path.join(root, name), "rb") as handle:
        digest.update(handle.read())
digest.update(str(os.path.getmtime(root)).encode())
print("wave_cache_base_" + digest.hexdigest()[:12])
PY
}
install_base_database() {
    local db="$1" cache
    dropdb --if-exists "$db" >/dev/null 2>&1 || true
    cache="$(base_cache_name)"
    (
        flock 9
        if ! psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$cache'" | grep -q 1; then
            say "Creating database $cache with $BASE_MODULES (kept as a template for later runs)"
            odoo_bin -c "$ODOO_CONF" -d "${cache}_new" -i "$BASE_MODULES" --stop-after-init \
                --log-level=warn --without-demo=all || die "Creating ${cache}_new failed (see above)."
            psql -q -d postgres -c "ALTER DATABASE \"${cache}_new\" RENAME TO \"$cache\"" \
                || die "Renaming ${cache}_new failed."
        fi
    ) 9>"${TMPDIR:-/tmp}/wave-base-cache.lock"
    say "Creating database $db from $cache"
    createdb -T "$cache" "$db" || die "Copying $cache to $db failed."
    # The copy is a new database: a filestore of its own is not needed (no attachments).
}

# Install (or with -u, upgrade) the addon into database $1.
install_addon() {
    local db="$1" mode="${2:--i}"
    odoo_bin -c "$ODOO_CONF" -d "$db" "$mode" wave_accounting_integration --stop-after-init \
        --log-level=warn --without-demo=all || die "Installing the addon into $db failed (see above)."
}

prepare_environment() {
    ensure_odoo
    ensure_python_packages
    ensure_postgres
}
