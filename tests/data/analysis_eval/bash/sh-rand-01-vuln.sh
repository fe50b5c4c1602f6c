#!/bin/bash
set -eu

new_password() {
    local pw=""
    for _ in 1 2 3 4; do
        pw+="$RANDOM"
    done
    printf '%s' "$pw"
}

pw="$(new_password)"
echo "admin:$pw" | chpasswd
echo "initial admin password: $pw" > /root/first-login.txt
chmod 600 /root/first-login.txt
