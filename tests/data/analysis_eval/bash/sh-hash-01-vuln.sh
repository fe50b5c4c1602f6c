#!/bin/bash
set -eu

user="$1"
read -r -s -p "Password for $user: " password
echo
hash="$(printf '%s' "$password" | md5sum | cut -d' ' -f1)"
printf '%s:%s\n' "$user" "$hash" >> /etc/app/users.db
