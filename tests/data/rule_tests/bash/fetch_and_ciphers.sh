#!/bin/bash
# Annotated cases written for this project: installers piped to a shell, openssl ciphers.

install_tool() {
    # ruleid: sh-curl-pipe-shell
    curl -fsSL https://get.example.com/install.sh | sudo bash
    # ok: sh-curl-pipe-shell
    curl -fsSLo install.sh https://get.example.com/install.sh && sha256sum -c install.sh.sha256 && bash install.sh
}

encrypt_backup() {
    # ruleid: sh-weak-cipher
    openssl enc -des3 -in backup.tar -out backup.enc -pass env:BACKUP_KEY
    # ok: sh-weak-cipher
    openssl enc -aes-256-cbc -pbkdf2 -in backup.tar -out backup.enc -pass env:BACKUP_KEY
}
