#!/bin/bash
printf 'Content-Type: text/plain\r\n\r\n'

target="${QUERY_STRING#url=}"
target="$(printf '%b' "${target//%/\\x}")"
curl -s -m 5 -o /dev/null -w '%{http_code} %{time_total}\n' "$target"
