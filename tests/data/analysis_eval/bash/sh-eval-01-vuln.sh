#!/usr/bin/env bash
set -euo pipefail

load_settings() {
    local file="$1" line
    while IFS= read -r line; do
        [[ -z "$line" || "$line" == \#* ]] && continue
        eval "export $line"
    done < "$file"
}

load_settings "/srv/uploads/${1:?settings file}"
echo "deploying to ${TARGET_ENV:-staging}"
