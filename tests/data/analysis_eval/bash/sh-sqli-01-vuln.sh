#!/bin/bash
set -eu

customer="$1"
mysql --defaults-extra-file=/etc/reports/my.cnf -N -e \
    "SELECT id, total FROM orders WHERE customer_name = '$customer' ORDER BY id DESC LIMIT 20" shop
