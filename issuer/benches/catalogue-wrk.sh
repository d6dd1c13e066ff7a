#!/usr/bin/env bash
# Catalogue requests per second on one issuer replica, SQLite then PostgreSQL, same binary.
set -u
cd "$(dirname "$0")/../.."
cargo build --release -p og-issuer --bin issuer 2>&1 | tail -1
BIN=target/release/issuer
psql -h 127.0.0.1 -U postgres -q -c "DROP DATABASE IF EXISTS og_wrk" -c "CREATE DATABASE og_wrk" 2>/dev/null
for engine in sqlite postgres; do
  dir=$(mktemp -d)
  if [ $engine = postgres ]; then db=(--database postgres://postgres@127.0.0.1/og_wrk); else db=(); fi
  $BIN --data-dir "$dir" "${db[@]}" serve --bind 127.0.0.1:18099 > "$dir/log" 2>&1 &
  pid=$!
  for i in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:18099/api/v1/events && break; sleep 0.1; done
  echo "## $engine"
  for path in /api/v1/events /api/v1/events/3 /; do
    wrk -t2 -c64 -d8s "http://127.0.0.1:18099$path" | grep -E "Requests/sec|Latency" | sed "s#^#$path #"
  done
  kill $pid; wait $pid 2>/dev/null
done
uptime
