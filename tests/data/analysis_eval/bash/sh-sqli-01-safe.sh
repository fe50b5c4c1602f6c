#!/bin/bash
set -eu

customer="$1"
psql --no-psqlrc -At -v customer="$customer" -d shop <<'SQL'
SELECT id, total FROM orders WHERE customer_name = :'customer' ORDER BY id DESC LIMIT 20;
SQL
