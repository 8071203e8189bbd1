#!/usr/bin/env bash
# Start the sipws interop Kamailio on loopback, in the background.
# Installs the Debian packages when missing (root), generates a throw-away CA
# and server certificate for wss, waits until the ports accept connections.
# Prints KEY=value lines on stdout (SIPWS_KAMAILIO_WS=..., ...).
#
# Environment: SIPWS_KAM_DIR (/tmp/sipws-kamailio), SIPWS_KAM_WS_PORT (15080),
# SIPWS_KAM_WSS_PORT (15443), SIPWS_KAM_DOMAIN (sipws.test),
# SIPWS_KAM_PASSWORD (sipws-secret).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cfg="$here/sipws.cfg"
dir="${SIPWS_KAM_DIR:-/tmp/sipws-kamailio}"
ws_port="${SIPWS_KAM_WS_PORT:-15080}"
wss_port="${SIPWS_KAM_WSS_PORT:-15443}"
domain="${SIPWS_KAM_DOMAIN:-sipws.test}"
password="${SIPWS_KAM_PASSWORD:-sipws-secret}"
log() { echo "up.sh: $*" >&2; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pkgs=(kamailio kamailio-websocket-modules kamailio-tls-modules)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing kamailio packages"
  # The package scripts would start the distribution's service on *:5060.
  policy_made=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; policy_made=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
    { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; }
  [ "$policy_made" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi

mkdir -p "$dir"
"$here/down.sh" >/dev/null 2>&1 || true
if listening "$ws_port"; then log "port $ws_port is taken by another program"; exit 1; fi

if [ ! -s "$dir/server.pem" ]; then
  ( cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout ca.key -out ca.pem \
      -subj "/CN=sipws interop test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile server.ext -out server.pem
    rm -f server.csr server.ext ca.srl ) >/dev/null 2>&1 || { log "openssl failed"; exit 1; }
fi

args=(-f "$cfg" -DD -E -Y "$dir" -P "$dir/kamailio.pid" -m 64 -M 8 -A WITH_TLS
  -A "WS_PORT=$ws_port" -A "WSS_PORT=$wss_port" -A "SIP_DOMAIN=\"$domain\""
  -A "PASSWORD=\"$password\"" -A "TLS_CERT=\"$dir/server.pem\"" -A "TLS_KEY=\"$dir/server.key\"")
kamailio -c "${args[@]}" >"$dir/check.log" 2>&1 || { tail -20 "$dir/check.log" >&2; log "config check failed"; exit 1; }
: >"$dir/kamailio.log"
setsid kamailio "${args[@]}" >>"$dir/kamailio.log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || { tail -20 "$dir/kamailio.log" >&2; log "kamailio exited"; exit 1; }
  if [ -s "$dir/kamailio.pid" ] && listening "$ws_port" && listening "$wss_port"; then
    echo "SIPWS_KAMAILIO_WS=ws://127.0.0.1:$ws_port"
    echo "SIPWS_KAMAILIO_WSS=wss://127.0.0.1:$wss_port"
    echo "SIPWS_KAMAILIO_CA=$dir/ca.pem"
    echo "SIPWS_KAMAILIO_DOMAIN=$domain"
    echo "SIPWS_KAMAILIO_PASSWORD=$password"
    echo "SIPWS_KAMAILIO_CTL=unixs:$dir/kamailio_ctl"
    log "kamailio up, pid $pid, log $dir/kamailio.log"
    exit 0
  fi
  sleep 0.1
done
log "kamailio did not open its ports within 10 s"; tail -20 "$dir/kamailio.log" >&2; exit 1
