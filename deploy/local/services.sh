#!/usr/bin/env bash
# Local servers for development and tests, no systemd needed:
#   deploy/local/services.sh start    # ensure PostgreSQL + NATS (JetStream) run; install + start Prosody and ngircd
#   deploy/local/services.sh stop     # stop the Prosody and ngircd this script started
#   deploy/local/services.sh status
#   deploy/local/services.sh im-servers  # only Prosody and ngircd (npm start: to try Parley with real clients)
#   deploy/local/services.sh register USER PASSWORD   # an XMPP account on the local Prosody
# Prosody and ngircd run as background processes with configs rendered from deploy/{prosody,ngircd}.
# A package's own daemon never holds our ports: installs run under a policy-rc.d that forbids
# starting daemons, and a system Prosody/ngircd already on a port we need is stopped. "Up" means the
# process we started holds every port we configured; otherwise the script fails with its log lines.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STATE=${PARLEY_SERVICES_STATE:-/tmp/parley-services}
C2S_PORT=${PARLEY_TEST_XMPP_PORT:-5222}
COMPONENT_PORT=${PARLEY_XMPP_COMPONENT_PORT:-5347}
DOMAIN=${PARLEY_TEST_XMPP_DOMAIN:-localhost}
COMPONENT_DOMAIN=${PARLEY_XMPP_COMPONENT_DOMAIN:-conf.localhost}
COMPONENT_SECRET=${PARLEY_XMPP_COMPONENT_SECRET:-parley-component-secret}
IRC_PORT=${PARLEY_IRC_PORT:-6667}
IRC_FLOOD_PORT=${PARLEY_IRC_FLOOD_PORT:-6668}
PROSODY_CFG="$STATE/prosody/prosody.cfg.lua"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # port name logfile
  for _ in $(seq 1 200); do port_open "$1" && return 0; sleep 0.05; done
  echo "$2 did not open port $1" >&2; [ -f "$3" ] && tail -20 "$3" >&2; return 1
}
running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null && [[ $(ps -o stat= -p "$(cat "$1")") != Z* ]]; }

apt_install() { # installs the Debian packages that are missing, without letting them start daemons
  local missing=()
  for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]} from apt (package daemons kept from starting)"
  # Debian's prosody/ngircd packages start their own daemon on install (prosody: TLS on :5222),
  # which would hold the ports our instances need. policy-rc.d exiting 101 tells invoke-rc.d "no".
  local guard=/usr/sbin/policy-rc.d saved=""
  if [ -e "$guard" ]; then saved=$(mktemp); cp -p "$guard" "$saved"; fi
  printf '#!/bin/sh\n# parley: no daemon starts while deploy/local/services.sh installs packages\nexit 101\n' >"$guard"
  chmod 755 "$guard"
  local status=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } || status=$?
  if [ -n "$saved" ]; then mv -f "$saved" "$guard"; else rm -f "$guard"; fi
  return $status
}

port_pids() { # the pids listening on 127.0.0.1/any :port (from ss; empty when free)
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

free_port() { # port name: stop a system daemon of that server holding the port; fail on anything else
  local port=$1 name=$2 pid comm
  for pid in $(port_pids "$port"); do
    comm=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
    if [[ $comm == *"$STATE"* ]]; then continue; fi # one of ours from an earlier run: stopped by the caller
    case "$comm" in
      *prosody*|*ngircd*)
        echo "a system $name (pid $pid: $comm) holds port $port; stopping it"
        if [ -x "/etc/init.d/$name" ]; then "/etc/init.d/$name" stop >/dev/null 2>&1 || true; fi
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null || true ;;
      *)
        echo "port $port, needed by our $name, is held by another program (pid $pid: $comm)" >&2
        return 1 ;;
    esac
  done
  for _ in $(seq 1 100); do [ -z "$(port_pids "$port")" ] && return 0; sleep 0.05; done
  echo "port $port is still held after stopping the system $name: $(ss -Hltnp "sport = :$port")" >&2
  return 1
}

owns_ports() { # pid port...: every port is listened on by pid (and by no one else)
  local pid=$1 port; shift
  for port in "$@"; do [ "$(port_pids "$port")" = "$pid" ] || return 1; done
}

wait_owned() { # pidfile name logfile port...: wait until our process holds every port; else fail loudly
  local pidfile=$1 name=$2 log=$3; shift 3
  local pid; pid=$(cat "$pidfile")
  for _ in $(seq 1 200); do
    owns_ports "$pid" "$@" && return 0
    running "$pidfile" || break
    sleep 0.05
  done
  echo "$name (pid $pid) did not come up holding ports $*:" >&2
  local port; for port in "$@"; do echo "  :$port → $(ss -Hltnp "sport = :$port" | grep -o 'users:.*' || echo free)" >&2; done
  [ -f "$log" ] && tail -20 "$log" >&2
  return 1
}

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432; then return 0; fi
  echo "PostgreSQL is down; starting it"
  apt_install postgresql
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  for _ in $(seq 1 100); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.1; done
  pg_isready -h 127.0.0.1 -p 5432
}

ensure_database() { # role + database the services and tests use (password login on 127.0.0.1)
  runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -d postgres <<'SQL'
SELECT 'CREATE ROLE parley LOGIN PASSWORD ''parley''' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'parley')\gexec
SELECT 'CREATE DATABASE parley OWNER parley' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'parley')\gexec
-- Tests of `npm start` give the launcher a throwaway database of its own.
ALTER ROLE parley CREATEDB;
SQL
}

ensure_nats() {
  if port_open 4222; then return 0; fi
  echo "NATS is down; starting it with JetStream"
  apt_install nats-server
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_port 4222 nats /var/log/nats-server.log
}

render() { # template output
  sed -e "s|@STATE@|$2|g" -e "s|@C2S_PORT@|$C2S_PORT|g" -e "s|@COMPONENT_PORT@|$COMPONENT_PORT|g" \
      -e "s|@DOMAIN@|$DOMAIN|g" -e "s|@COMPONENT_DOMAIN@|$COMPONENT_DOMAIN|g" \
      -e "s|@COMPONENT_SECRET@|$COMPONENT_SECRET|g" -e "s|@IRC_PORT@|$IRC_PORT|g" "$1" >"$3"
}

start_prosody() {
  apt_install prosody
  # A running Prosody is kept as it is (whatever settings it was started with: a test may ask for
  # the IM servers with another component domain) unless this checkout's config template or
  # modules differ from those it was started from.
  local template="$ROOT/deploy/prosody/prosody.test.cfg.lua.in"
  if running "$STATE/prosody.pid" && owns_ports "$(cat "$STATE/prosody.pid")" "$C2S_PORT" "$COMPONENT_PORT" &&
    cmp -s "$template" "$STATE/prosody/config.template" &&
    diff -rq "$ROOT/deploy/prosody/modules" "$STATE/prosody/modules" >/dev/null 2>&1; then
    return 0
  fi
  stop_one prosody >/dev/null
  free_port "$C2S_PORT" prosody; free_port "$COMPONENT_PORT" prosody
  install -d -o prosody -g prosody "$STATE/prosody" "$STATE/prosody/data" "$STATE/prosody/certs"
  rm -rf "$STATE/prosody/modules"
  cp -r "$ROOT/deploy/prosody/modules" "$STATE/prosody/modules"
  cp "$template" "$STATE/prosody/config.template"
  render "$template" "$STATE/prosody" "$PROSODY_CFG"
  chown -R prosody:prosody "$PROSODY_CFG" "$STATE/prosody/modules"
  rm -f "$STATE/prosody/"*.log
  # Prosody refuses to run as root; setpriv execs, so $! is Prosody's own pid.
  setpriv --reuid=prosody --regid=prosody --init-groups prosody --config "$PROSODY_CFG" -F \
    >"$STATE/prosody/stdout.log" 2>&1 &
  echo $! >"$STATE/prosody.pid"
  # Up means: the process we started holds both ports (Prosody binds what it can and logs the rest).
  wait_owned "$STATE/prosody.pid" prosody "$STATE/prosody/error.log" "$C2S_PORT" "$COMPONENT_PORT" ||
    { tail -20 "$STATE/prosody/prosody.log" >&2 2>/dev/null; return 1; }
  echo "prosody up (c2s :$C2S_PORT, component $COMPONENT_DOMAIN :$COMPONENT_PORT, config $PROSODY_CFG)"
}

# ngircd, twice: `ngircd` without flood control (fast tests), `ngircd-flood` with ngircd's default
# flood control (≈ 3 lines/s per connection, as public IRC networks have) for the hostile suite.
start_ngircd() { # name port template
  local name=$1 port=$2 template=$3
  apt_install ngircd
  if running "$STATE/$name.pid" && owns_ports "$(cat "$STATE/$name.pid")" "$port"; then return 0; fi
  stop_one "$name" >/dev/null
  free_port "$port" ngircd
  mkdir -p "$STATE/$name/conf.d"
  IRC_PORT=$port render "$ROOT/deploy/ngircd/$template" "$STATE/$name" "$STATE/$name/ngircd.conf"
  ngircd -n -f "$STATE/$name/ngircd.conf" >"$STATE/$name/ngircd.log" 2>&1 &
  echo $! >"$STATE/$name.pid"
  wait_owned "$STATE/$name.pid" "$name" "$STATE/$name/ngircd.log" "$port"
  echo "$name up (:$port)"
}

stop_one() {
  local f="$STATE/$1.pid"
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f")
  if kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 1 100); do
      s=$(ps -o stat= -p "$pid" 2>/dev/null || true); { [ -z "$s" ] || [[ $s == Z* ]]; } && break; sleep 0.05
    done
    echo "$1 ($pid) stopped"
  fi
  rm -f "$f"
}

case "${1:-status}" in
  start)
    mkdir -p "$STATE"
    ensure_postgres; ensure_database; ensure_nats; start_prosody
    start_ngircd ngircd "$IRC_PORT" ngircd.test.conf.in
    start_ngircd ngircd-flood "$IRC_FLOOD_PORT" ngircd.flood.conf.in
    echo "PARLEY_TEST_PROSODY_CONFIG=$PROSODY_CFG" >"$STATE/env" ;;
  im-servers)
    mkdir -p "$STATE"
    start_prosody
    start_ngircd ngircd "$IRC_PORT" ngircd.test.conf.in ;;
  register)
    [ $# -eq 3 ] || { echo "usage: $0 register USER PASSWORD" >&2; exit 2; }
    # prosodyctl writes the account files: as the prosody user, like the server.
    setpriv --reuid=prosody --regid=prosody --init-groups prosodyctl --config "$PROSODY_CFG" \
      register "$2" "$DOMAIN" "$3" >/dev/null ;;
  stop) stop_one ngircd-flood; stop_one ngircd; stop_one prosody ;;
  restart-ngircd) stop_one ngircd; start_ngircd ngircd "$IRC_PORT" ngircd.test.conf.in ;;
  status)
    for s in prosody ngircd ngircd-flood; do running "$STATE/$s.pid" && echo "$s up" || echo "$s down"; done
    pg_isready -h 127.0.0.1 -p 5432 || true; port_open 4222 && echo "nats up" || echo "nats down" ;;
  *) echo "usage: $0 start|stop|status|restart-ngircd|im-servers|register USER PASSWORD" >&2; exit 2 ;;
esac
