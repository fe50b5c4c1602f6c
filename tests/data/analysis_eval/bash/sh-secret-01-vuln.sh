#!/bin/bash
set -euo pipefail

REGISTRY=registry.example.com
REGISTRY_USER=deploy-bot
REGISTRY_PASSWORD='dK9!vQz2#pLm7Rw'

echo "$REGISTRY_PASSWORD" | docker login "$REGISTRY" -u "$REGISTRY_USER" --password-stdin
docker pull "$REGISTRY/shop/api:${1:-latest}"
docker compose -f /srv/shop/compose.yml up -d api
