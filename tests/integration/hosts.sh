#!/usr/bin/env bash
# Several hosts on one machine, for tests/integration/hosts_it.cc: Linux network namespaces, each
# a "host" with one link (a veth pair) to a bridge in a namespace of its own (the switch):
#
#   nginx  10.77.0.10  nginx with nginx/chatalot.conf, each upstream listing both worker hosts
#   w1     10.77.0.11  every handler of scripts/stack's HANDLERS on TCP, ports 9001 and up,
#                      serving nginx only (FASTCGI_ALLOWED_ADDRESSES=10.77.0.10)
#   w2     10.77.0.12  the same
#   db     10.77.0.20  PostgreSQL :5432, Redis :6379; with CHATALOT_HOSTS_POOLER=pgbouncer the
#                      workers reach PostgreSQL through pgbouncer :6432 in transaction mode
#
#   hosts.sh up DIR          build it all; state and logs under DIR (an existing, empty directory)
#   hosts.sh down DIR        end every process of the namespaces, delete them, then DIR
#                            (kept when CHATALOT_HOSTS_KEEP=1)
#   hosts.sh cut DIR HOST    take HOST's link down at the switch, as a pulled cable
#   hosts.sh mend DIR HOST   bring it back
#   hosts.sh nginx DIR new|kept
#                            reload nginx with a new connection per request to the workers (as
#                            `up` starts it), or with kept connections, the single-host form, and
#                            one worker process (so that one cache holds every kept connection)
#   hosts.sh sweep           delete what runs whose owner process has ended left behind
#
# Namespaces are named chatalot-hosts-OWNER-RANDOM-HOST, OWNER being CHATALOT_HOSTS_OWNER (the
# test's process id): parallel runs never clash, and the leftovers of a run that was killed are
# recognised by its owner being gone. The addresses live only in the run's own namespaces:
# nothing is added to the machine's network. The handlers get the caller's environment plus
# DATABASE_URL, REDIS_URL, the JWT key paths and FASTCGI_ALLOWED_ADDRESSES. Needs root and a
# kernel with network namespaces, veth and bridge; without them `up` fails and says why.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

PG_BIN=/usr/lib/postgresql/15/bin
CTL=$BUILD_DIR/cli/chatalotctl
PREFIX=chatalot-hosts
SUBNET=10.77.0
NGINX_ADDR=$SUBNET.10
DB_ADDR=$SUBNET.20
declare -A HOST_ADDR=([nginx]=$SUBNET.10 [w1]=$SUBNET.11 [w2]=$SUBNET.12 [db]=$SUBNET.20)
HOSTS=(nginx w1 w2 db)
WORKERS=(w1 w2)
# How nginx treats a worker host (README, "Several hosts").
SERVER_OPTIONS="max_fails=1 fail_timeout=10s"
# Shorter than the shipped 30 s, so that the requests lost with a cut link fail sooner and the
# run stays short; what fails does not depend on it.
READ_TIMEOUT=10s

# scripts/stack's handlers, in its order: handler i listens on port 9000 + i.
mapfile -t HANDLERS < <(sed -n '/^HANDLERS=(/,/)/p' "$ROOT/scripts/stack" |
  sed -e 's/HANDLERS=(//' -e 's/)//' | tr -s ' ' '\n' | grep -v '^$')
port_of() {
  local i
  for i in "${!HANDLERS[@]}"; do [ "${HANDLERS[$i]}" = "$1" ] && echo $((9001 + i)) && return; done
}

ns_of() { echo "$NS_PREFIX-$1"; }  # after load_names
load_names() { NS_PREFIX=$(cat "$DIR/netns-prefix" 2>/dev/null) || die "$DIR holds no run"; }

# Ends every process in namespace $1: TERM, then KILL after 10 s.
end_processes() {
  local ns=$1 pids i
  pids=$(ip netns pids "$ns" 2>/dev/null)
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null
  for i in $(seq 100); do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [ -n "$pids" ] || return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null
  sleep 0.2
}

delete_namespace() {
  end_processes "$1"
  ip netns del "$1" 2>/dev/null
  return 0
}

cmd_sweep() {
  local ns owner
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX-"); do
    owner=${ns#"$PREFIX"-}
    owner=${owner%%-*}
    if ! kill -0 "$owner" 2>/dev/null; then
      log "deleting $ns, left by process $owner"
      delete_namespace "$ns"
    fi
  done
}

in_ns() { local host=$1; shift; ip netns exec "$(ns_of "$host")" "$@"; }

make_network() {
  [ "$(id -u)" -eq 0 ] || die "network namespaces need root (CAP_NET_ADMIN and CAP_SYS_ADMIN)"
  command -v ip >/dev/null || die "ip (iproute2) is not installed"
  local sw host ns
  sw=$(ns_of sw)
  ip netns add "$sw" ||
    die "cannot create a network namespace: this test needs a kernel with network namespaces (CONFIG_NET_NS)"
  ip -n "$sw" link set lo up
  ip -n "$sw" link add br0 type bridge || die "cannot create a bridge (CONFIG_BRIDGE)"
  ip -n "$sw" link set br0 up
  for host in "${HOSTS[@]}"; do
    ns=$(ns_of "$host")
    ip netns add "$ns" || die "cannot create the network namespace $ns"
    ip -n "$ns" link set lo up
    # Made in place: no interface ever appears in the machine's own namespace.
    ip link add eth0 netns "$ns" type veth peer name "$host" netns "$sw" ||
      die "cannot create a veth pair (CONFIG_VETH)"
    ip -n "$sw" link set "$host" master br0 up
    ip -n "$ns" addr add "${HOST_ADDR[$host]}/24" dev eth0
    ip -n "$ns" link set eth0 up
  done
}

wait_port() {  # HOST PORT: whether something listens there within 10 s
  local i
  for i in $(seq 200); do
    in_ns "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q LISTEN && return 0
    sleep 0.05
  done
  return 1
}

start_db() {
  local pg=$DIR/db/pg run=$DIR/run
  mkdir -p "$pg" "$DIR/db/redis"
  chown postgres: "$pg" "$run"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$pg/data" -U postgres --auth=trust -E UTF8 \
    --locale=C.UTF-8 >"$DIR/logs/initdb.log" 2>&1 || { cat "$DIR/logs/initdb.log" >&2; die "initdb failed"; }
  echo "host all all $SUBNET.0/24 trust" >>"$pg/data/pg_hba.conf"
  in_ns db runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$pg/data" -w -t 30 -l "$pg/postgres.log" \
    -o "-c listen_addresses='$DB_ADDR' -c unix_socket_directories='$run' -c max_connections=300" \
    start >/dev/null || { tail -n 20 "$pg/postgres.log" >&2; die "PostgreSQL did not start"; }
  # A transaction whose host vanished holds its locks until PostgreSQL ends it (README, "Several
  # hosts"): 2 s, below the handlers' statement timeout, so the others' statements wait it out.
  "$PG_BIN/psql" -q -h "$run" -U postgres -c "create role chatalot login" postgres &&
    "$PG_BIN/psql" -q -h "$run" -U postgres \
      -c "alter role chatalot set idle_in_transaction_session_timeout = '2s'" postgres &&
    "$PG_BIN/psql" -q -h "$run" -U postgres -c "create database chatalot owner chatalot" postgres ||
    die "could not create the chatalot database"
  DATABASE_URL="postgresql:///chatalot?host=$run&user=chatalot" "$CTL" migrate \
    >>"$DIR/logs/migrate.log" 2>&1 || { tail -n 3 "$DIR/logs/migrate.log" >&2; die "the migrations failed"; }
  in_ns db redis-server --bind "$DB_ADDR" --port 6379 --protected-mode no --daemonize yes \
    --pidfile "$run/redis.pid" --dir "$DIR/db/redis" --logfile "$DIR/logs/redis.log" \
    --save "" --appendonly no || die "Redis did not start"
  wait_port db 6379 || die "Redis does not listen on $DB_ADDR:6379"
  if [ "${CHATALOT_HOSTS_POOLER:-}" = pgbouncer ]; then start_pgbouncer; fi
}

start_pgbouncer() {
  local dir=$DIR/db/pgbouncer
  command -v pgbouncer >/dev/null || die "pgbouncer is not installed"
  mkdir -p "$dir"
  printf '"chatalot" ""\n"postgres" ""\n' >"$dir/userlist.txt"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
chatalot = host=$DIR/run port=5432 dbname=chatalot user=chatalot

[pgbouncer]
listen_addr = $DB_ADDR
listen_port = 6432
unix_socket_dir = $dir
auth_type = trust
admin_users = postgres
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 2000
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  chown -R postgres: "$dir"
  in_ns db runuser -u postgres -- pgbouncer -d "$dir/pgbouncer.ini" >>"$DIR/logs/pgbouncer-start.log" 2>&1 ||
    { tail -n 5 "$dir/pgbouncer.log" >&2; die "pgbouncer did not start"; }
  wait_port db 6432 || die "pgbouncer does not listen on $DB_ADDR:6432"
}

start_workers() {
  local host h port database_url=postgresql://chatalot@$DB_ADDR:5432/chatalot
  local pooling=()
  if [ "${CHATALOT_HOSTS_POOLER:-}" = pgbouncer ]; then
    database_url=postgresql://chatalot@$DB_ADDR:6432/chatalot
    pooling=(DATABASE_POOLING=transaction)
  fi
  for host in "${WORKERS[@]}"; do
    mkdir -p "$DIR/logs/$host"
    for h in "${HANDLERS[@]}"; do
      port=$(port_of "$h")
      # A simple command, so that the background job execs it: no shell stays behind.
      ip netns exec "$(ns_of "$host")" setsid env DATABASE_URL="$database_url" \
        REDIS_URL="redis://$DB_ADDR:6379" \
        JWT_PRIVATE_KEY_PATH="$DIR/keys/jwt_ed25519.pem" \
        JWT_PUBLIC_KEY_PATH="$DIR/keys/jwt_ed25519.pub.pem" \
        FASTCGI_ALLOWED_ADDRESSES="$NGINX_ADDR" "${pooling[@]}" \
        "$BUILD_DIR/handlers/chatalot-$h" --listen "${HOST_ADDR[$host]}:$port" \
        </dev/null >>"$DIR/logs/$host/$h.log" 2>&1 &
    done
  done
  for host in "${WORKERS[@]}"; do
    for h in "${HANDLERS[@]}"; do
      wait_port "$host" "$(port_of "$h")" ||
        { tail -n 5 "$DIR/logs/$host/$h.log" >&2; die "chatalot-$h does not listen on $host"; }
    done
  done
}

# nginx/chatalot.conf with each unix upstream replaced by both worker hosts, a shorter read
# timeout, the test's loopback clients unguarded and, unless $1 is "kept", no kept connections
# (README, "Several hosts": a kept connection to a vanished host takes the next request down).
write_nginx_conf() {
  local dir=$DIR/nginx sed_args=() h port servers connections=${1:-new}
  mkdir -p "$dir/tmp"
  for h in "${HANDLERS[@]}"; do
    port=$(port_of "$h")
    servers="    zone chatalot_$h 64k;"
    for host in "${WORKERS[@]}"; do
      servers+="\\n    server ${HOST_ADDR[$host]}:$port $SERVER_OPTIONS;"
    done
    sed_args+=(-e "s|^    server unix:/run/chatalot/$h\\.sock .*\$|$servers|")
  done
  if [ "$connections" != kept ]; then
    sed_args+=(-e '/^    keepalive [0-9]+;$/d' -e 's|^(    fastcgi_keep_conn) on;|\1 off;|')
  fi
  sed -E "${sed_args[@]}" \
    -e "s|^(    fastcgi_read_timeout) 30s;|\\1 $READ_TIMEOUT;|" \
    -e '/^geo \$chatalot_unguarded \{$/a\    127.0.0.0/8 1;' \
    "$ROOT/nginx/chatalot.conf" >"$dir/chatalot.conf"
  if grep -q 'server unix:' "$dir/chatalot.conf"; then die "an upstream of nginx/chatalot.conf was not rewritten"; fi
  cat >"$dir/nginx.conf" <<CONF
user root;
worker_processes $([ "$connections" = kept ] && echo 1 || echo 2);
pid $DIR/run/nginx.pid;
error_log $DIR/logs/nginx-error.log warn;
events { worker_connections 4096; }
http {
    log_format hosts '\$msec \$request_time \$remote_addr \$request_id \$status '
                     '"\$request_method \$uri" "\$upstream_addr" "\$upstream_status"';
    access_log $DIR/logs/nginx-access.log hosts;
    client_body_temp_path $dir/tmp/body;
    fastcgi_temp_path $dir/tmp/fastcgi;
    proxy_temp_path $dir/tmp/proxy;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    include $dir/chatalot.conf;
}
CONF
}

start_nginx() {
  write_nginx_conf
  in_ns nginx nginx -p "$DIR/nginx" -e "$DIR/logs/nginx-error.log" -c "$DIR/nginx/nginx.conf" \
    2>>"$DIR/logs/nginx-error.log" || { tail -n 5 "$DIR/logs/nginx-error.log" >&2; die "nginx did not start"; }
  local i
  for i in $(seq 100); do
    in_ns nginx curl -sf -o /dev/null http://127.0.0.1/api/auth/config && return 0
    sleep 0.1
  done
  die "nginx does not answer in $(ns_of nginx)"
}

cmd_up() {
  [ -d "$DIR" ] || die "no directory $DIR"
  cmd_sweep
  local owner=${CHATALOT_HOSTS_OWNER:-$PPID}
  NS_PREFIX=$PREFIX-$owner-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
  echo "$NS_PREFIX" >"$DIR/netns-prefix"
  # PostgreSQL, run as its own user, must reach its directories under DIR.
  chmod 711 "$DIR"
  mkdir -p "$DIR/run" "$DIR/logs" "$DIR/keys"
  chmod 700 "$DIR/keys"
  # Whatever stops `up` (die exits), the namespaces and their processes go; DIR stays for its
  # logs until `down`.
  trap 'rc=$?; [ $rc -eq 0 ] || { log "up failed; deleting the namespaces"; CHATALOT_HOSTS_KEEP=1 cmd_down; }' EXIT
  make_network
  JWT_PRIVATE_KEY_PATH=$DIR/keys/jwt_ed25519.pem JWT_PUBLIC_KEY_PATH=$DIR/keys/jwt_ed25519.pub.pem \
    "$CTL" keygen >/dev/null 2>&1 || die "chatalotctl keygen failed"
  start_db
  start_workers
  start_nginx
  trap - EXIT
  echo "up: nginx in $(ns_of nginx) at 127.0.0.1:80 and $NGINX_ADDR:80"
}

cmd_down() {
  local host
  if NS_PREFIX=$(cat "$DIR/netns-prefix" 2>/dev/null); then
    for host in nginx "${WORKERS[@]}" db sw; do delete_namespace "$(ns_of "$host")"; done
  fi
  [ "${CHATALOT_HOSTS_KEEP:-0}" = 1 ] || rm -rf "$DIR"
}

cmd_nginx() {  # new|kept
  load_names
  write_nginx_conf "$1"
  in_ns nginx nginx -p "$DIR/nginx" -e "$DIR/logs/nginx-error.log" -c "$DIR/nginx/nginx.conf" \
    -s reload || die "nginx reload failed"
}

cmd_link() {  # up|down HOST
  load_names
  [ -n "${HOST_ADDR[$2]:-}" ] || die "no host $2"
  ip -n "$(ns_of sw)" link set "$2" "$1"
}

case "${1:-}" in
  up) DIR=${2:?DIR}; cmd_up ;;
  down) DIR=${2:?DIR}; cmd_down ;;
  cut) DIR=${2:?DIR}; cmd_link down "${3:?HOST}" ;;
  mend) DIR=${2:?DIR}; cmd_link up "${3:?HOST}" ;;
  nginx) DIR=${2:?DIR}; cmd_nginx "${3:?new or kept}" ;;
  sweep) cmd_sweep ;;
  *) echo "usage: hosts.sh up DIR | down DIR | cut DIR HOST | mend DIR HOST | nginx DIR new|kept | sweep" >&2
     exit 2 ;;
esac
