#!/usr/bin/env bash
# Throw-away ClickHouse servers for Clew's tests, on loopback and non-default
# ports, run as root from a temporary directory (see docs/deployment.md and
# ../shared/reference/engines.md §5). Source it, then call:
#
#   ch_install            install Debian's clickhouse-server/-client (and zookeeper with "cluster")
#   ch_start              one node: native 127.0.0.1:$CH_TCP (19000), HTTP :$CH_HTTP (18123);
#                         exports CLEW_CLICKHOUSE_DSN
#   ch_stop               stop it and remove its directory
#   cluster_start         ZooKeeper :12181 + two nodes (native 19101/19102, HTTP 18124/18125);
#                         clusters "spans_cluster" (1 shard x 2 replicas) and "two_shards" (2 x 1);
#                         exports CLEW_CLICKHOUSE_CLUSTER_DSN1/2
#   cluster_stop          stop ZooKeeper and both nodes, remove their directories
#   cluster_kill_node N   SIGKILL node N (1 or 2); cluster_start_node N starts it again
#
# Every process is stopped by the PID this script started, never by name.
# Used as a program: scripts/clickhouse.sh start|cluster -- CMD... runs CMD
# with the server(s) up and stops them afterwards.

CH_TCP=${CH_TCP:-19000}
CH_HTTP=${CH_HTTP:-18123}
CH_TMP=${TMPDIR:-/tmp}

ch_install() {
	local want="clickhouse-server clickhouse-client"
	[ "${1:-}" = cluster ] && want="$want zookeeper"
	if command -v clickhouse-server >/dev/null && { [ "${1:-}" != cluster ] || [ -f /usr/share/java/zookeeper.jar ]; }; then
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "clickhouse.sh: need root to apt-get install $want" >&2
		return 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $want >/dev/null
}

# ch_run_server DIR CONFIG TCP HTTP INTERSERVER [extra args...]: starts one
# server in the background; its PID is in $! afterwards.
ch_run_server() {
	local d=$1 cfg=$2 tcp=$3 http=$4 inter=$5
	shift 5
	mkdir -p "$d/data"
	/usr/sbin/clickhouse-server --config-file="$cfg" -- \
		--path="$d/data/" --tmp_path="$d/data/tmp/" --user_files_path="$d/data/user_files/" \
		--format_schema_path="$d/data/format_schemas/" --tcp_port="$tcp" --http_port="$http" \
		--interserver_http_port="$inter" --listen_host=127.0.0.1 \
		--logger.log="$d/server.log" --logger.errorlog="$d/err.log" "$@" >"$d/stdout.log" 2>&1 &
}

ch_wait_http() {
	local port=$1
	for _ in $(seq 1 120); do
		curl -sf "http://127.0.0.1:$port/ping" >/dev/null && return 0
		sleep 0.25
	done
	echo "clickhouse on :$port did not start" >&2
	return 1
}

ch_start() {
	ch_install || return 1
	if curl -sf "http://127.0.0.1:$CH_HTTP/ping" >/dev/null 2>&1 || (exec 3<>"/dev/tcp/127.0.0.1/$CH_TCP") 2>/dev/null; then
		echo "clickhouse.sh: something already listens on 127.0.0.1:$CH_TCP or :$CH_HTTP; set CH_TCP/CH_HTTP to other ports" >&2
		return 1
	fi
	CH_DIR=$(mktemp -d "$CH_TMP/clew-ch.XXXXXX")
	ch_run_server "$CH_DIR" /etc/clickhouse-server/config.xml "$CH_TCP" "$CH_HTTP" $((CH_TCP + 9))
	CH_PID=$!
	# NB: the ping must come from this server, not from one already on the port.
	if ! ch_wait_http "$CH_HTTP" || ! kill -0 "$CH_PID" 2>/dev/null; then
		echo "clickhouse-server (pid $CH_PID) did not start on :$CH_TCP/:$CH_HTTP (ports in use?)" >&2
		cat "$CH_DIR/stdout.log" "$CH_DIR/err.log" >&2
		ch_stop
		return 1
	fi
	export CLEW_CLICKHOUSE_DSN="clickhouse://127.0.0.1:$CH_TCP/default"
	echo "clickhouse $(curl -sf "http://127.0.0.1:$CH_HTTP/?query=SELECT%20version()") on 127.0.0.1:$CH_TCP (pid $CH_PID, $CH_DIR)"
}

ch_stop() {
	if [ -n "${CH_PID:-}" ]; then
		kill "$CH_PID" 2>/dev/null || true
		wait "$CH_PID" 2>/dev/null || true
		CH_PID=
	fi
	[ -n "${CH_DIR:-}" ] && rm -rf "$CH_DIR"
	CH_DIR=
}

# --- two nodes + ZooKeeper ---------------------------------------------------

CL_ZK_PORT=${CL_ZK_PORT:-12181}
CL_PIDS=("" "" "")

cluster_node_config() {
	local i=$1 d="$CL_DIR/n$1"
	mkdir -p "$d/config.d"
	cp /etc/clickhouse-server/config.xml /etc/clickhouse-server/users.xml "$d/"
	# LowCardinality is experimental in 18.16 and ON CLUSTER DDL runs with
	# the server's default profile, so enable it there before start.
	sed -i 's#<default>#<default><allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type>#' "$d/users.xml"
	cat >"$d/config.d/cluster.xml" <<XML
<yandex>
  <zookeeper><node><host>127.0.0.1</host><port>$CL_ZK_PORT</port></node></zookeeper>
  <macros><shard>01</shard><two_shard>0$i</two_shard><replica>r$i</replica></macros>
  <remote_servers>
    <spans_cluster><shard><internal_replication>true</internal_replication>
      <replica><host>127.0.0.1</host><port>19101</port></replica>
      <replica><host>127.0.0.1</host><port>19102</port></replica></shard></spans_cluster>
    <two_shards>
      <shard><replica><host>127.0.0.1</host><port>19101</port></replica></shard>
      <shard><replica><host>127.0.0.1</host><port>19102</port></replica></shard></two_shards>
  </remote_servers>
</yandex>
XML
}

cluster_start_node() {
	local i=$1 d="$CL_DIR/n$1"
	ch_run_server "$d" "$d/config.xml" "1910$i" "1812$((3 + i))" "1901$i" --interserver_http_host=127.0.0.1
	CL_PIDS[$i]=$!
	ch_wait_http "1812$((3 + i))"
}

cluster_kill_node() {
	local i=$1 sig=${2:-KILL}
	if [ -n "${CL_PIDS[$i]}" ]; then
		kill -"$sig" "${CL_PIDS[$i]}" 2>/dev/null || true
		wait "${CL_PIDS[$i]}" 2>/dev/null || true
		CL_PIDS[$i]=
	fi
}

cluster_start() {
	ch_install cluster || return 1
	CL_DIR=$(mktemp -d "$CH_TMP/clew-chcl.XXXXXX")
	mkdir -p "$CL_DIR/zk/conf" "$CL_DIR/zk/data"
	cp /etc/zookeeper/conf/log4j.properties "$CL_DIR/zk/conf/" 2>/dev/null || true
	printf 'tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=ruok,srvr\n' \
		"$CL_DIR/zk/data" "$CL_ZK_PORT" >"$CL_DIR/zk/conf/zoo.cfg"
	# Debian's zkServer.sh ignores ZOOCFGDIR; run the JVM directly.
	java -Xmx256m -cp "$CL_DIR/zk/conf:/usr/share/java/zookeeper.jar" org.apache.zookeeper.server.ZooKeeperServerMain \
		"$CL_DIR/zk/conf/zoo.cfg" >"$CL_DIR/zk/stdout.log" 2>&1 &
	CL_ZK_PID=$!
	# 18.16 segfaults on ON CLUSTER DDL if its first ZooKeeper session
	# failed: wait until ZooKeeper is serving ("srvr" prints a Mode).
	local up=
	for _ in $(seq 1 240); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$CL_ZK_PORT" && echo srvr >&3 && timeout 2 cat <&3) 2>/dev/null | grep -q '^Mode:'; then
			up=1
			break
		fi
		sleep 0.25
	done
	if [ -z "$up" ]; then
		echo "zookeeper did not start" >&2
		cat "$CL_DIR/zk/stdout.log" >&2
		cluster_stop
		return 1
	fi
	for i in 1 2; do
		cluster_node_config "$i"
		cluster_start_node "$i" || {
			cat "$CL_DIR/n$i/stdout.log" "$CL_DIR/n$i/err.log" >&2
			cluster_stop
			return 1
		}
	done
	# Wait until the DDL worker has its ZooKeeper session.
	local q="SELECT%20count()%20FROM%20system.zookeeper%20WHERE%20path%3D'/clickhouse/task_queue'%20AND%20name%3D'ddl'"
	for _ in $(seq 1 120); do
		[ "$(curl -sf "http://127.0.0.1:18124/?query=$q")" = 1 ] && [ "$(curl -sf "http://127.0.0.1:18125/?query=$q")" = 1 ] && break
		sleep 0.25
	done
	export CLEW_CLICKHOUSE_CLUSTER_DSN1="clickhouse://127.0.0.1:19101/default"
	export CLEW_CLICKHOUSE_CLUSTER_DSN2="clickhouse://127.0.0.1:19102/default"
	echo "clickhouse cluster up: zookeeper :$CL_ZK_PORT (pid $CL_ZK_PID), nodes 19101 (pid ${CL_PIDS[1]}), 19102 (pid ${CL_PIDS[2]})"
}

cluster_stop() {
	cluster_kill_node 1 TERM
	cluster_kill_node 2 TERM
	if [ -n "${CL_ZK_PID:-}" ]; then
		kill "$CL_ZK_PID" 2>/dev/null || true
		wait "$CL_ZK_PID" 2>/dev/null || true
		CL_ZK_PID=
	fi
	[ -n "${CL_DIR:-}" ] && rm -rf "$CL_DIR"
	CL_DIR=
}

# As a program: scripts/clickhouse.sh start|cluster -- CMD...
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	mode=${1:-}
	shift || true
	[ "${1:-}" = -- ] && shift
	case "$mode" in
	start)
		ch_start
		trap ch_stop EXIT
		;;
	cluster)
		cluster_start
		trap cluster_stop EXIT
		;;
	*)
		echo "usage: $0 start|cluster -- command..." >&2
		exit 2
		;;
	esac
	"$@"
fi
