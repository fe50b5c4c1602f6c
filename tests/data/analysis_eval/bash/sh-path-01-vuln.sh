#!/bin/bash
EXPORT_DIR=/srv/exports

serve_export() {
    local name="$1"
    local file="$EXPORT_DIR/$name"
    if [ ! -f "$file" ]; then
        echo "no such export" >&2
        return 1
    fi
    cat "$file"
}

serve_export "$SSH_ORIGINAL_COMMAND"
