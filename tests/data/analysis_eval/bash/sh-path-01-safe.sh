#!/bin/bash
EXPORT_DIR=/srv/exports

serve_export() {
    local name="$1" file
    file="$(realpath -e -- "$EXPORT_DIR/$name" 2>/dev/null)" || { echo "no such export" >&2; return 1; }
    case "$file" in
        "$EXPORT_DIR"/*) ;;
        *) echo "no such export" >&2; return 1 ;;
    esac
    [ -f "$file" ] || { echo "no such export" >&2; return 1; }
    cat -- "$file"
}

serve_export "$SSH_ORIGINAL_COMMAND"
