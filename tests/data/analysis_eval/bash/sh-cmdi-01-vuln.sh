#!/bin/bash
printf 'Content-Type: text/plain\r\n\r\n'

host="${QUERY_STRING#host=}"
host="${host%%&*}"

if [ -z "$host" ]; then
    echo "usage: ?host=NAME"
    exit 0
fi

sh -c "nslookup $host 2>&1 | head -n 20"
