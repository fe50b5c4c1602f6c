#!/bin/bash
printf 'Content-Type: text/plain\r\n\r\n'

service="${QUERY_STRING#service=}"
case "$service" in
    api) target="https://api.example.com/healthz" ;;
    web) target="https://www.example.com/healthz" ;;
    *) echo "unknown service"; exit 0 ;;
esac
curl -s -m 5 -o /dev/null -w '%{http_code} %{time_total}\n' "$target"
