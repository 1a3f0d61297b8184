#!/usr/bin/env bash
# Renders the Prosody config from the environment, makes a self-signed certificate for the demo
# domains (first start only, kept in the data volume), registers the demo users, then runs Prosody
# as the `prosody` user (it refuses to run as root).
#   XMPP_DOMAIN (localhost), PARLEY_XMPP_COMPONENT_DOMAIN (conf.localhost),
#   PARLEY_XMPP_COMPONENT_SECRET (required), PARLEY_DEMO_USERS ("alice:pw,bob:pw")
set -euo pipefail
: "${PARLEY_XMPP_COMPONENT_SECRET:?set PARLEY_XMPP_COMPONENT_SECRET (deploy/compose/secrets.env)}"
DOMAIN=${XMPP_DOMAIN:-localhost}
COMPONENT_DOMAIN=${PARLEY_XMPP_COMPONENT_DOMAIN:-conf.localhost}
CFG=/var/lib/prosody/prosody.cfg.lua
sed -e "s|@DOMAIN@|$DOMAIN|g" -e "s|@COMPONENT_DOMAIN@|$COMPONENT_DOMAIN|g" \
    -e "s|@COMPONENT_SECRET@|$PARLEY_XMPP_COMPONENT_SECRET|g" /etc/prosody/prosody.cfg.lua.in >"$CFG"
CERTS=/var/lib/prosody/certs
mkdir -p "$CERTS"
if [ ! -f "$CERTS/$DOMAIN.crt" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$DOMAIN" \
    -addext "subjectAltName=DNS:$DOMAIN,DNS:$COMPONENT_DOMAIN" \
    -keyout "$CERTS/$DOMAIN.key" -out "$CERTS/$DOMAIN.crt" 2>/dev/null
fi
chown -R prosody:prosody /var/lib/prosody
IFS=',' read -ra users <<<"${PARLEY_DEMO_USERS:-}"
for entry in "${users[@]}"; do
  [ -n "$entry" ] || continue
  prosodyctl --config "$CFG" register "${entry%%:*}" "$DOMAIN" "${entry#*:}"
done
exec setpriv --reuid=prosody --regid=prosody --init-groups prosody --config "$CFG" -F
