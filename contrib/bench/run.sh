#!/usr/bin/env bash
# run.sh: the modnats vs nats-server benchmark driver.
#
# For each scenario it starts a fresh server process on a random loopback
# port, runs mnbench (contrib/bench/mnbench.c) against it, stops it, and
# alternates the two servers A B A B ... for --rounds rounds. It then prints
# the median of each figure per server and a ratio oriented so that >1 always
# means server A (modnats) wins: A/B for throughput, B/A for latency and
# memory. Both servers get the same flags: -a 127.0.0.1 -p PORT [-c CONFIG].
# The scenario "route" starts two processes of the same server instead,
# clustered on loopback (a nats-server style config file with cluster {}
# that both servers read; --config is not used there), publisher on the
# first, subscriber on the second.
# The scenarios tls* (tlspubsub, tlspub1k) give both servers a tls block
# instead of --config, with certificates made once per run by
# tests/gen/gen_certs.sh, and connect the generator with TLS.
# The JetStream scenarios (jspub jsconsume kvput kvget) run jsbench
# (contrib/bench/jsbench.c, libnats) instead of mnbench, against servers
# started with -js -sd DIR: the same fresh store dir for both, on disk
# (under the build dir by default, never tmpfs), each side's sync policy
# printed with the table; --js-interval adds modnats with sync = "interval".
# Every step is bounded by a timeout, so a hung server cannot hang the run.
# See docs/benchmarks.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SRC="$ROOT/contrib/bench/mnbench.c"
JSSRC="$ROOT/contrib/bench/jsbench.c"

SCALE=1
ROUNDS=3
ONLY=""
SERVER_A="$ROOT/build/bin/modnats"
SERVER_B=$(command -v nats-server 2>/dev/null || echo /usr/bin/nats-server)
NAME_A=""
NAME_B=""
MNBENCH=""
JSBENCH=""
JS_DIR=""
JS_INTERVAL=0
MD=""
CONFIG=""
RUN_TIMEOUT=120
KEEP=0
NICE=()

usage() {
	cat <<EOF
usage: contrib/bench/run.sh [options]
  --scale X          multiply message counts (default 1: ~1-3 s per run)
  --rounds N         rounds per server, alternating A B A B (default 3)
  --only LIST        comma-separated scenarios (default: all):
                     pub16 pub1k pubsub fanout8 queue4 reqrep wildcard idleconns
                     route (two servers of each kind clustered: pub on one,
                     sub on the other; modnats needs modules/cluster.so
                     in ../modules next to its binary)
                     tlspubsub tlspub1k (pubsub and pub1k over TLS: both
                     servers get a tls block; needs the openssl CLI)
                     jspub jsconsume kvput kvget (JetStream, run by jsbench:
                     both servers get -js -sd DIR; needs libnats)
  --server-a PATH    server A (default build/bin/modnats)
  --server-b PATH    server B (default nats-server from PATH)
  --name-a NAME      label for A in the table (default: file name)
  --name-b NAME      label for B
  --config FILE      pass -c FILE to both servers
  --mnbench PATH     load generator to use (default: build it if needed)
  --jsbench PATH     JetStream generator to use (default: build it if needed)
  --js-dir DIR       parent of the JetStream store dirs (default: a temp dir
                     under build/; must be a real disk, not tmpfs)
  --js-interval      JetStream scenarios also run server A with
                     jetstream { sync = "interval" } (ack before fsync, as
                     nats-server): extra rows comparing that with B
                     (A must be modnats: nats-server 2.9 has no such key)
  --md FILE          also write the results as a markdown table to FILE
  --timeout S        limit for one mnbench run (default 120)
  --keep             keep server logs (printed path)
  --nice N           run servers and generator under nice -n N (negative
                     needs root): less noise from other work on the machine
Sanity check (both sides the reference server, ratios should be ~1.0):
  contrib/bench/run.sh --server-a \$(command -v nats-server)
EOF
}

while [ $# -gt 0 ]; do
	case "$1" in
	--scale) SCALE=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--server-a) SERVER_A=$2; shift 2 ;;
	--server-b) SERVER_B=$2; shift 2 ;;
	--name-a) NAME_A=$2; shift 2 ;;
	--name-b) NAME_B=$2; shift 2 ;;
	--config) CONFIG=$2; shift 2 ;;
	--mnbench) MNBENCH=$2; shift 2 ;;
	--jsbench) JSBENCH=$2; shift 2 ;;
	--js-dir) JS_DIR=$2; shift 2 ;;
	--js-interval) JS_INTERVAL=1; shift ;;
	--md) MD=$2; shift 2 ;;
	--timeout) RUN_TIMEOUT=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--nice) NICE=(nice -n "$2"); shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
done

die() { echo "run.sh: $*" >&2; exit 1; }

for s in "$SERVER_A" "$SERVER_B"; do
	[ -x "$s" ] || die "server not found or not executable: $s (build modnats first, or pass --server-a/--server-b)"
done
[ -z "$CONFIG" ] || [ -r "$CONFIG" ] || die "cannot read config $CONFIG"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds wants a positive integer"

# The generator: given, or from a CMake build, or compiled here on the spot.
if [ -z "$MNBENCH" ]; then
	if [ -x "$ROOT/build/bin/mnbench" ] && [ "$ROOT/build/bin/mnbench" -nt "$SRC" ]; then
		MNBENCH="$ROOT/build/bin/mnbench"
	else
		MNBENCH="${TMPDIR:-/tmp}/mnbench-$(id -u)/mnbench"
		if [ ! -x "$MNBENCH" ] || [ "$SRC" -nt "$MNBENCH" ]; then
			mkdir -p "$(dirname "$MNBENCH")"
			echo "building $MNBENCH" >&2
			"${CC:-cc}" -O2 -Wall -Wextra -pthread "$SRC" -o "$MNBENCH.tmp" -lssl -lcrypto || die "cannot build mnbench"
			mv "$MNBENCH.tmp" "$MNBENCH"
		fi
	fi
fi
[ -x "$MNBENCH" ] || die "mnbench not found: $MNBENCH"

# The JetStream generator, found or built the same way (it needs libnats).
if [ -z "$JSBENCH" ]; then
	if [ -x "$ROOT/build/bin/jsbench" ] && [ "$ROOT/build/bin/jsbench" -nt "$JSSRC" ]; then
		JSBENCH="$ROOT/build/bin/jsbench"
	else
		JSBENCH="${TMPDIR:-/tmp}/mnbench-$(id -u)/jsbench"
		if [ ! -x "$JSBENCH" ] || [ "$JSSRC" -nt "$JSBENCH" ]; then
			mkdir -p "$(dirname "$JSBENCH")"
			if "${CC:-cc}" -O2 -Wall -Wextra "$JSSRC" -o "$JSBENCH.tmp" -lnats 2>"$JSBENCH.err"; then
				mv "$JSBENCH.tmp" "$JSBENCH"
			else
				JSBENCH=""  # no libnats: the JetStream scenarios are unavailable
			fi
		fi
	fi
fi
JS_SCEN=()
[ -z "$JSBENCH" ] || mapfile -t JS_SCEN < <("$JSBENCH" --list)
is_js() { printf '%s\n' "${JS_SCEN[@]}" | grep -qx -- "$1"; }

# 5,000 idle connections need more descriptors than the usual 1024 soft limit;
# servers started below inherit this.
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 5200 ]; then
	echo "run.sh: warning: ulimit -n is $(ulimit -n); idleconns needs > 5000" >&2
fi

base() { basename "$1"; }
[ -n "$NAME_A" ] || NAME_A=$(base "$SERVER_A")
[ -n "$NAME_B" ] || NAME_B=$(base "$SERVER_B")
if [ "$NAME_A" = "$NAME_B" ]; then NAME_A="$NAME_A (A)"; NAME_B="$NAME_B (B)"; fi

mapfile -t ALL < <("$MNBENCH" --list)
ALL+=("${JS_SCEN[@]}")
if [ -n "$ONLY" ]; then
	IFS=, read -r -a SCENARIOS <<<"$ONLY"
	for s in "${SCENARIOS[@]}"; do
		case "$s" in jspub|jsconsume|kvput|kvget) [ -n "$JSBENCH" ] ||
			die "scenario $s needs jsbench, which did not build (libnats missing? see ${TMPDIR:-/tmp}/mnbench-$(id -u)/jsbench.err)" ;;
		esac
		printf '%s\n' "${ALL[@]}" | grep -qx -- "$s" || die "unknown scenario $s (have: ${ALL[*]})"
	done
else
	SCENARIOS=("${ALL[@]}")
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mnbench-run.XXXXXX")
SRV_PID=""
SRV_PID2=""
JS_BASE=""
cleanup() {
	if [ -n "$SRV_PID" ]; then kill -KILL "$SRV_PID" 2>/dev/null || true; fi
	if [ -n "$SRV_PID2" ]; then kill -KILL "$SRV_PID2" 2>/dev/null || true; fi
	if [ -n "$JS_BASE" ]; then rm -rf "$JS_BASE"; fi
	if [ "$KEEP" = 1 ]; then echo "logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

server_version() {
	local v
	v=$(timeout -k 1 3 "$1" --version 2>&1 | head -n 1) || true
	echo "${v:-$1}"
}

# The tls* scenarios' config (and certificates), made once per run.
TLS_CONF=""
tls_setup() {
	[ -z "$TLS_CONF" ] || return 0
	sh "$ROOT/tests/gen/gen_certs.sh" "$WORK/certs" || die "cannot make the TLS certificates"
	TLS_CONF="$WORK/tls.conf"
	printf 'tls {\n  cert_file: "%s"\n  key_file: "%s"\n}\n' \
		"$WORK/certs/server-cert.pem" "$WORK/certs/server-key.pem" >"$TLS_CONF"
}

# The JetStream store: one dir on a real disk, emptied before every run, so
# both servers write to the same place. Made on first use.
JS_STORE=""
js_setup() {
	[ -z "$JS_BASE" ] || return 0
	local parent=${JS_DIR:-$ROOT/build}
	mkdir -p "$parent" || die "cannot make $parent"
	JS_BASE=$(mktemp -d "$parent/jsbench-store.XXXXXX") || die "cannot make a store dir under $parent"
	JS_STORE="$JS_BASE/store"
	local fs
	fs=$(stat -f -c %T "$JS_BASE" 2>/dev/null || echo unknown)
	case "$fs" in tmpfs|ramfs) die "$JS_BASE is on $fs: fsync costs nothing there; give --js-dir on a real disk" ;; esac
	JS_FS="$fs on $(df -P "$JS_BASE" | awk 'NR == 2 { print $1 }')"
	printf 'jetstream {\n  sync = "interval"\n}\n' >"$WORK/js-interval.conf"
}

# What a server's JetStream promises with a PubAck, from its version line.
js_policy() {
	local v
	v=$(server_version "$1")
	case "$v" in
	*modnats*)
		if [ "${2:-}" = interval ]; then echo "$2: ack after the write to the OS, WAL fsync every 2 min (sync = \"interval\")"
		else echo "PubAck after the WAL fsync, group commit (sync = \"always\", the default)"; fi ;;
	*nats-server*) echo "PubAck before fsync, fsync every 2 min (nats-server's default sync_interval)" ;;
	*) echo "unknown" ;;
	esac
}

# Starts server $1 with log $2 (config $3 instead of --config when given;
# "-js" as $3: JetStream with a fresh store, and $4 a config to add);
# sets SRV_PID and SRV_PORT.
start_server() {
	SRV_PORT=$("$MNBENCH" --free-port)
	local args=(-a 127.0.0.1 -p "$SRV_PORT")
	if [ "${3:-}" = -js ]; then
		rm -rf "$JS_STORE"
		args+=(-js -sd "$JS_STORE")
		if [ -n "${4:-}" ]; then
			args+=(-c "$4")
		elif [ -n "$CONFIG" ]; then
			args+=(-c "$CONFIG")
		fi
	elif [ -n "${3:-}" ]; then
		args+=(-c "$3")
	elif [ -n "$CONFIG" ]; then
		args+=(-c "$CONFIG")
	fi
	"${NICE[@]}" "$1" "${args[@]}" >"$2" 2>&1 &
	SRV_PID=$!
}

# Starts two processes of server $1, clustered (logs $2.1 and $2.2): sets
# SRV_PID/SRV_PORT (the first, which the second dials) and SRV_PID2/SRV_PORT2.
# Route ports are free ports picked at random; one config per process, in
# nats-server's syntax, which modnats reads too.
start_route_pair() {
	local cp1 cp2 i
	SRV_PORT=$("$MNBENCH" --free-port)
	SRV_PORT2=$("$MNBENCH" --free-port)
	cp1=$("$MNBENCH" --free-port)
	cp2=$("$MNBENCH" --free-port)
	printf 'cluster {\n  name: BENCH\n  listen: 127.0.0.1:%d\n}\n' "$cp1" >"$2.1.conf"
	printf 'cluster {\n  name: BENCH\n  listen: 127.0.0.1:%d\n  routes: [nats-route://127.0.0.1:%d]\n}\n' \
		"$cp2" "$cp1" >"$2.2.conf"
	"${NICE[@]}" "$1" -a 127.0.0.1 -p "$SRV_PORT" -n bench-1 -c "$2.1.conf" >"$2.1" 2>&1 &
	SRV_PID=$!
	"${NICE[@]}" "$1" -a 127.0.0.1 -p "$SRV_PORT2" -n bench-2 -c "$2.2.conf" >"$2.2" 2>&1 &
	SRV_PID2=$!
}

stop_pid() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || true
	local i
	for i in $(seq 50); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# Waits (bounded) until a server with JetStream listens on port $1: it
# opens its store first, and libnats does not retry a refused connect.
wait_port() {
	local i
	for i in $(seq 300); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$SRV_PID" 2>/dev/null || return 0
		sleep 0.1
	done
}

stop_server() {
	stop_pid "$SRV_PID"
	SRV_PID=""
	stop_pid "$SRV_PID2"
	SRV_PID2=""
}

declare -A VALS LABEL UNIT BETTER FAILS
METRICS=()
NFAIL=0

# run_one SCENARIO SIDE(A|B|C) SERVER ROUND; C is A with sync = "interval".
run_one() {
	local scen=$1 side=$2 srv=$3 round=$4
	local log="$WORK/$scen.$side.$round.server.log" out="$WORK/$scen.$side.$round.out"
	local extra=() gen=$MNBENCH
	if is_js "$scen"; then
		js_setup
		gen=$JSBENCH
		if [ "$side" = C ]; then
			start_server "$srv" "$log" -js "$WORK/js-interval.conf"
		else
			start_server "$srv" "$log" -js
		fi
		wait_port "$SRV_PORT"
	elif [ "$scen" = route ]; then
		start_route_pair "$srv" "$log"
		extra=(--port2 "$SRV_PORT2")
	elif [[ "$scen" == tls* ]]; then
		tls_setup
		start_server "$srv" "$log" "$TLS_CONF"
		extra=(--tls-ca "$WORK/certs/ca.pem")
	else
		start_server "$srv" "$log"
	fi
	local rc=0
	"${NICE[@]}" timeout -k 5 "$((RUN_TIMEOUT + 15))" "$gen" --scenario "$scen" --port "$SRV_PORT" \
		"${extra[@]}" --pid "$SRV_PID" --scale "$SCALE" --timeout "$RUN_TIMEOUT" >"$out" 2>"$out.err" || rc=$?
	if ! kill -0 "$SRV_PID" 2>/dev/null || { [ -n "$SRV_PID2" ] && ! kill -0 "$SRV_PID2" 2>/dev/null; }; then
		echo "  server $side exited during the run" >>"$out.err"
		[ "$rc" != 0 ] || rc=1
	fi
	stop_server
	if [ "$rc" != 0 ]; then
		FAILS[$scen.$side]=1
		NFAIL=$((NFAIL + 1))
		echo "  [$scen] round $round $side: FAILED (rc $rc)" >&2
		sed 's/^/    | /' "$out.err" >&2
		for l in "$log" "$log.1" "$log.2"; do
			[ -f "$l" ] && tail -n 5 "$l" | sed 's/^/    server| /' >&2
		done
		return 0
	fi
	local key label value unit better summary=""
	while IFS='|' read -r key label value unit better; do
		key=${key#METRIC }
		if [ -z "${LABEL[$key]+x}" ]; then
			METRICS+=("$key")
			LABEL[$key]=$label UNIT[$key]=$unit BETTER[$key]=$better
		fi
		VALS[$key.$side]="${VALS[$key.$side]:-} $value"
		summary+=" $key=$value"
	done < <(grep '^METRIC ' "$out")
	echo "  [$scen] round $round $side:$summary" >&2
}

# median of the numbers in $1; spread = (max-min)/median in percent.
stats() {
	tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "- -"; exit }
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			s = (m != 0) ? 100 * (v[NR] - v[1]) / m : 0
			printf "%.6g %.0f\n", m, s
		}'
}

fmt() { # value unit
	awk -v v="$1" -v u="$2" 'BEGIN {
		if (v == "-") { print "FAIL"; exit }
		if (u ~ /\/s$/ && v >= 1e6) printf "%.2f M %s\n", v / 1e6, u
		else if (u ~ /\/s$/ && v >= 1e4) printf "%.0f k %s\n", v / 1e3, u
		else if (u == "KiB" && v >= 10240) printf "%.1f MiB\n", v / 1024
		else if (v >= 100) printf "%.0f %s\n", v, u
		else printf "%.1f %s\n", v, u
	}'
}

echo "mnbench: $MNBENCH; A = $SERVER_A; B = $SERVER_B; scale $SCALE, $ROUNDS rounds ${NICE[*]}" >&2
if [ "${#NICE[@]}" -gt 0 ]; then "${NICE[@]}" true || die "cannot run ${NICE[*]}"; fi
T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_START%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > 0.5 * n) }'; then
	echo "run.sh: warning: load average is $LOAD_START on $(nproc) cores: other work will add noise" >&2
fi
for scen in "${SCENARIOS[@]}"; do
	for r in $(seq "$ROUNDS"); do
		run_one "$scen" A "$SERVER_A" "$r"
		run_one "$scen" B "$SERVER_B" "$r"
		if [ "$JS_INTERVAL" = 1 ] && is_js "$scen"; then run_one "$scen" C "$SERVER_A" "$r"; fi
	done
done
T_END=$(date +%s)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

HEADER="ratio: >1 means $NAME_A wins (A/B for throughput, B/A for latency and memory); medians of $ROUNDS rounds, spread = (max-min)/median"
ROWS=()
for key in "${METRICS[@]}"; do
	read -r ma sa <<<"$(stats "${VALS[$key.A]:-}")"
	read -r mb sb <<<"$(stats "${VALS[$key.B]:-}")"
	better=${BETTER[$key]}
	ratio=$(awk -v a="$ma" -v b="$mb" -v hb="$better" 'BEGIN {
		if (a == "-" || b == "-" || a <= 0 || b <= 0) { print "-"; exit }
		printf "%.2f\n", (hb == "higher") ? a / b : b / a }')
	dir="higher is better"; [ "$better" = higher ] || dir="lower is better"
	[ "$sa" = - ] || sa="$sa%"
	[ "$sb" = - ] || sb="$sb%"
	ROWS+=("${LABEL[$key]}|$(fmt "$ma" "${UNIT[$key]}")|$(fmt "$mb" "${UNIT[$key]}")|$ratio|$dir|$sa / $sb")
done
# --js-interval: the same metrics with A in sync = "interval", against B.
for key in "${METRICS[@]}"; do
	[ -n "${VALS[$key.C]:-}" ] || continue
	read -r mc sc <<<"$(stats "${VALS[$key.C]}")"
	read -r mb sb <<<"$(stats "${VALS[$key.B]:-}")"
	ratio=$(awk -v a="$mc" -v b="$mb" -v hb="${BETTER[$key]}" 'BEGIN {
		if (a == "-" || b == "-" || a <= 0 || b <= 0) { print "-"; exit }
		printf "%.2f\n", (hb == "higher") ? a / b : b / a }')
	dir="higher is better"; [ "${BETTER[$key]}" = higher ] || dir="lower is better"
	ROWS+=("${LABEL[$key]} [A: sync interval]|$(fmt "$mc" "${UNIT[$key]}")|$(fmt "$mb" "${UNIT[$key]}")|$ratio|$dir|$sc% / $sb%")
done
JS_NOTE=""
if [ -n "$JS_BASE" ]; then
	JS_NOTE="JetStream store: $JS_STORE ($JS_FS), emptied before each run. Sync policy: A ($NAME_A): $(js_policy "$SERVER_A"); B ($NAME_B): $(js_policy "$SERVER_B")"
	[ "$JS_INTERVAL" = 0 ] || JS_NOTE+="; rows marked [A: sync interval]: A with $(js_policy "$SERVER_A" interval)"
fi
for k in $( ((NFAIL == 0)) || printf '%s\n' "${!FAILS[@]}" | sort -u); do
	ROWS+=("${k%.*} (failed on ${k##*.})|-|-|-|-|-")
done

echo
echo "$HEADER"
[ -z "$JS_NOTE" ] || echo "$JS_NOTE"
printf '%-40s %16s %16s %7s  %-17s %s\n' "scenario" "$NAME_A" "$NAME_B" "ratio" "" "spread A / B"
for row in "${ROWS[@]}"; do
	IFS='|' read -r l a b x d s <<<"$row"
	printf '%-40s %16s %16s %7s  %-17s %s\n' "$l" "$a" "$b" "$x" "($d)" "$s"
done

if [ -n "$MD" ]; then
	{
		echo "Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')),"
		echo "scale $SCALE, $ROUNDS rounds,${NICE[*]:+ ${NICE[*]},} $((T_END - T_START)) s, load average $LOAD_START at start and $LOAD_END at end."
		echo "A: \`$SERVER_A\` (\`$(server_version "$SERVER_A")\`), B: \`$SERVER_B\` (\`$(server_version "$SERVER_B")\`)."
		echo "$HEADER."
		[ -z "$JS_NOTE" ] || echo "$JS_NOTE."
		echo
		echo "| scenario | $NAME_A | $NAME_B | ratio | | spread A / B |"
		echo "|---|---:|---:|---:|---|---:|"
		for row in "${ROWS[@]}"; do
			IFS='|' read -r l a b x d s <<<"$row"
			echo "| $l | $a | $b | $x | $d | $s |"
		done
	} >"$MD"
	echo "markdown written to $MD" >&2
fi
[ "$NFAIL" = 0 ]
