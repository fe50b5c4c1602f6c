#!/bin/bash
# Annotated cases written for this project: temporary files and permissions.

backup_fixed() {
    # ruleid: sh-predictable-temp-file
    tar czf - /srv/data > /tmp/backup.tgz
    # ruleid: sh-predictable-temp-file
    LOG=/tmp/deploy.$$.log
    echo "done" >> "$LOG"
}

backup_safe() {
    # ok: sh-predictable-temp-file
    tmp=$(mktemp)
    trap 'rm -f "$tmp"' EXIT
    # ok: sh-predictable-temp-file
    tar czf - /srv/data > "$tmp"
    # ok: sh-predictable-temp-file
    cd /tmp && ls -l
}

perms() {
    # ruleid: sh-world-writable
    chmod 0757 /srv/app/run.sh
    # ruleid: sh-world-writable
    chmod -R o+rwx /srv/uploads
    # ruleid: sh-world-writable
    umask 000
    # ok: sh-world-writable
    chmod 750 /srv/app/run.sh
    # ok: sh-world-writable
    chmod u+x,go-w /srv/app/run.sh
    # ok: sh-world-writable
    umask 027
}
