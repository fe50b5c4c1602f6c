#!/bin/sh
set -e

VERSION="${1:-1.8.2}"
curl -fsSLk "https://downloads.example.io/agent/${VERSION}/install.sh" -o /tmp/agent-install.sh
sh /tmp/agent-install.sh --prefix /opt/agent
