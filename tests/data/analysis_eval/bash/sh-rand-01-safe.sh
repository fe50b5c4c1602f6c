#!/bin/bash
set -eu

new_password() {
    head -c 18 /dev/urandom | base64 | tr -d '/+=' | cut -c1-20
}

pw="$(new_password)"
echo "admin:$pw" | chpasswd
echo "initial admin password: $pw" > /root/first-login.txt
chmod 600 /root/first-login.txt
