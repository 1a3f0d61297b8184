#!/usr/bin/env bash
# Local servers for development and tests, no systemd needed:
#   deploy/local/services.sh start    # ensure PostgreSQL + NATS (JetStream) run; install + start Prosody and ngircd
#   deploy/local/services.sh stop     # stop the Prosody and ngircd this script started
#   deploy/local/services.sh status
# Prosody and ngircd run as background processes with configs rendered from deploy/{prosody,ngircd}.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STATE=${PARLEY_SERVICES_STATE:-/tmp/parley-services}
C2S_PORT=${PARLEY_TEST_XMPP_PORT:-5222}
COMPONENT_PORT=${PARLEY_XMPP_COMPONENT_PORT:-5347}
DOMAIN=${PARLEY_TEST_XMPP_DOMAIN:-localhost}
COMPONENT_DOMAIN=${PARLEY_XMPP_COMPONENT_DOMAIN:-conf.localhost}
COMPONENT_SECRET=${PARLEY_XMPP_COMPONENT_SECRET:-parley-component-secret}
IRC_PORT=${PARLEY_IRC_PORT:-6667}
PROSODY_CFG="$STATE/prosody/prosody.cfg.lua"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # port name logfile
  for _ in $(seq 1 200); do port_open "$1" && return 0; sleep 0.05; done
  echo "$2 did not open port $1" >&2; [ -f "$3" ] && tail -20 "$3" >&2; return 1
}
running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null && [[ $(ps -o stat= -p "$(cat "$1")") != Z* ]]; }

apt_install() { # installs the Debian packages that are missing
  local missing=()
  for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]} from apt"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
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
  if running "$STATE/prosody.pid" && port_open "$COMPONENT_PORT"; then return 0; fi
  install -d -o prosody -g prosody "$STATE/prosody" "$STATE/prosody/data" "$STATE/prosody/certs"
  render "$ROOT/deploy/prosody/prosody.test.cfg.lua.in" "$STATE/prosody" "$PROSODY_CFG"
  chown prosody:prosody "$PROSODY_CFG"
  rm -f "$STATE/prosody/"*.log
  # Prosody refuses to run as root; setpriv execs, so $! is Prosody's own pid.
  setpriv --reuid=prosody --regid=prosody --init-groups prosody --config "$PROSODY_CFG" -F \
    >"$STATE/prosody/stdout.log" 2>&1 &
  echo $! >"$STATE/prosody.pid"
  wait_port "$C2S_PORT" prosody "$STATE/prosody/prosody.log"
  wait_port "$COMPONENT_PORT" prosody "$STATE/prosody/prosody.log"
  echo "prosody up (c2s :$C2S_PORT, component $COMPONENT_DOMAIN :$COMPONENT_PORT, config $PROSODY_CFG)"
}

start_ngircd() {
  apt_install ngircd
  if running "$STATE/ngircd.pid" && port_open "$IRC_PORT"; then return 0; fi
  mkdir -p "$STATE/ngircd/conf.d"
  render "$ROOT/deploy/ngircd/ngircd.test.conf.in" "$STATE/ngircd" "$STATE/ngircd/ngircd.conf"
  ngircd -n -f "$STATE/ngircd/ngircd.conf" >"$STATE/ngircd/ngircd.log" 2>&1 &
  echo $! >"$STATE/ngircd.pid"
  wait_port "$IRC_PORT" ngircd "$STATE/ngircd/ngircd.log"
  echo "ngircd up (:$IRC_PORT)"
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
    ensure_postgres; ensure_database; ensure_nats; start_prosody; start_ngircd
    echo "PARLEY_TEST_PROSODY_CONFIG=$PROSODY_CFG" >"$STATE/env" ;;
  stop) stop_one ngircd; stop_one prosody ;;
  restart-ngircd) stop_one ngircd; start_ngircd ;;
  status)
    for s in prosody ngircd; do running "$STATE/$s.pid" && echo "$s up" || echo "$s down"; done
    pg_isready -h 127.0.0.1 -p 5432 || true; port_open 4222 && echo "nats up" || echo "nats down" ;;
  *) echo "usage: $0 start|stop|status|restart-ngircd" >&2; exit 2 ;;
esac
