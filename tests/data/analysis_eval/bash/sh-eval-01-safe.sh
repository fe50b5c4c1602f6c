#!/usr/bin/env bash
set -euo pipefail

load_settings() {
    local file="$1" line key value
    while IFS= read -r line; do
        [[ -z "$line" || "$line" == \#* ]] && continue
        key="${line%%=*}"
        value="${line#*=}"
        case "$key" in
            TARGET_ENV|REPLICAS|LOG_LEVEL) export "$key=$value" ;;
            *) echo "ignoring unknown key: $key" >&2 ;;
        esac
    done < "$file"
}

load_settings "/srv/uploads/${1:?settings file}"
echo "deploying to ${TARGET_ENV:-staging}"
