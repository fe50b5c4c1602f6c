#!/bin/sh
set -e

VERSION="${1:-1.8.2}"
curl -fsSL --proto '=https' "https://downloads.example.io/agent/${VERSION}/install.sh" -o /tmp/agent-install.sh
curl -fsSL --proto '=https' "https://downloads.example.io/agent/${VERSION}/install.sh.sha256" -o /tmp/agent-install.sh.sha256
(cd /tmp && sha256sum -c agent-install.sh.sha256)
sh /tmp/agent-install.sh --prefix /opt/agent
