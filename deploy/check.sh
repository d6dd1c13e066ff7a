#!/usr/bin/env bash
# Validates the deployment files as far as a machine without a Docker engine allows:
#   - nginx.conf with `nginx -t` (upstream pointed at 127.0.0.1, a throwaway self-signed cert);
#   - the systemd unit with `systemd-analyze verify` (ExecStart pointed at a given gate-agent binary);
#   - the compose file and Dockerfiles for the structure we rely on (non-root USER, multi-stage).
# Usage: deploy/check.sh [PATH-TO-gate-agent-BINARY]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
gate_bin="${1:-/bin/true}"

echo "check: nginx -t"
mkdir -p "$tmp/certs"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
    -keyout "$tmp/certs/tls.key" -out "$tmp/certs/tls.crt" 2>/dev/null
sed -e "s#server issuer:8080#server 127.0.0.1:8080#" -e "s#server issuer-2:8080#server 127.0.0.2:8080#" -e "s#/etc/nginx/certs#$tmp/certs#g" \
    "$here/nginx/nginx.conf" > "$tmp/nginx.conf"
echo "pid $tmp/nginx.pid; error_log $tmp/error.log;" >> "$tmp/nginx.conf"
nginx -t -q -c "$tmp/nginx.conf" -p "$tmp/" 2>"$tmp/nginx-t.log" || { cat "$tmp/nginx-t.log"; exit 1; }

echo "check: systemd-analyze verify"
sed -e "s#/usr/local/bin/gate-agent#$gate_bin#" "$here/systemd/og-gate-agent.service" > "$tmp/og-gate-agent.service"
out="$(systemd-analyze verify "$tmp/og-gate-agent.service" 2>&1 || true)"
# Users and groups of the target device do not exist on a build machine; anything else is an error.
bad="$(printf '%s\n' "$out" | grep -v -e '^$' -e 'Failed to resolve user' -e 'Failed to resolve group' || true)"
if [ -n "$bad" ]; then
    printf '%s\n' "$out"
    exit 1
fi

echo "check: Dockerfiles are multi-stage and run as non-root"
for f in "$here"/Dockerfile.*; do
    [ "$(grep -c '^FROM ' "$f")" -ge 2 ] || { echo "$f is not multi-stage"; exit 1; }
    grep -q '^USER og' "$f" || { echo "$f does not drop root"; exit 1; }
done

echo "check: the images' build context leaves out build output and secrets (.dockerignore)"
for p in target/ .git/ deploy/secrets/ deploy/nginx/certs/ deploy/gate-frames/; do
    grep -qxF "$p" "$here/../.dockerignore" || { echo ".dockerignore does not leave out $p"; exit 1; }
done

echo "check: compose file parses and names postgres, two issuer replicas, nginx and gate"
python3 - "$here/docker-compose.yml" <<'PY'
import sys
text = open(sys.argv[1]).read()
try:
    import yaml
    doc = yaml.safe_load(text)
    services = set(doc["services"])
except ImportError:
    services = {l.strip().rstrip(":") for l in text.splitlines() if l.startswith("  ") and not l.startswith("   ") and l.strip().endswith(":")}
missing = {"postgres", "issuer", "issuer-2", "nginx", "gate"} - services
if missing:
    sys.exit(f"compose file lacks services: {missing}")
PY
echo "check: deploy files OK"
