#!/bin/bash
printf 'Content-Type: text/plain\r\n\r\n'

host="${QUERY_STRING#host=}"
host="${host%%&*}"

if [[ ! "$host" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$ ]]; then
    echo "usage: ?host=NAME"
    exit 0
fi

nslookup -- "$host" 2>&1 | head -n 20
