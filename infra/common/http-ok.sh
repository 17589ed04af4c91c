#!/bin/bash
# Health check without curl or python (the proxy images are plain debian:bookworm-slim):
# one HTTP/1.0 GET over bash's /dev/tcp, exit 0 only on a 200 answer.
#   usage: http-ok.sh PORT PATH [HOST]
set -eu
port=${1:?usage: http-ok.sh PORT PATH [HOST]}
path=${2:?usage: http-ok.sh PORT PATH [HOST]}
host=${3:-localhost}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$host" >&3
read -r -t 5 status <&3
case "$status" in
  "HTTP/1."[01]" 200 "*) exit 0 ;;
  *) echo "GET $path on :$port answered: ${status:-nothing}" >&2; exit 1 ;;
esac
