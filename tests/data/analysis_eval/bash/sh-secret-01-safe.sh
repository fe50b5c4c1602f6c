#!/bin/bash
set -euo pipefail

REGISTRY=registry.example.com
REGISTRY_USER=deploy-bot
: "${REGISTRY_PASSWORD_FILE:?set REGISTRY_PASSWORD_FILE}"

docker login "$REGISTRY" -u "$REGISTRY_USER" --password-stdin < "$REGISTRY_PASSWORD_FILE"
docker pull "$REGISTRY/shop/api:${1:-latest}"
docker compose -f /srv/shop/compose.yml up -d api
