# Annotated cases written for this project: cleartext transport and log injection.
import ftplib
import logging
import smtplib

import requests
from flask import Flask, request

app = Flask(__name__)
log = logging.getLogger(__name__)


def fetch_rates():
    # ruleid: py-cleartext-transport
    return requests.get("http://rates.example.com/today.json", timeout=5).json()


def fetch_rates_tls():
    # ok: py-cleartext-transport
    return requests.get("https://rates.example.com/today.json", timeout=5).json()


def fetch_local_health():
    # ok: py-cleartext-transport
    return requests.get("http://localhost:8080/health", timeout=1).status_code


def on_cloud_vm():
    # ok: py-cleartext-transport
    return requests.get("http://169.254.169.254/computeMetadata/v1/", timeout=1).ok


def upload_report(data):
    # ruleid: py-cleartext-transport
    ftp = ftplib.FTP("files.example.com")
    ftp.login("reports", "secret")


def send_mail(msg, password):
    # ruleid: py-cleartext-transport
    server = smtplib.SMTP("mail.example.com", 25)
    server.login("bot", password)
    server.send_message(msg)


def send_mail_tls(msg, password):
    # ok: py-cleartext-transport
    server = smtplib.SMTP("mail.example.com", 587)
    server.starttls()
    server.login("bot", password)
    server.send_message(msg)


@app.route("/login", methods=["POST"])
def login():
    user = request.form["user"]
    # ruleid: py-taint-log-injection
    log.info("login attempt for %s", user)
    # ok: py-taint-log-injection
    log.info("login attempt for %s", user.replace("\r", "").replace("\n", ""))
    # ok: py-taint-log-injection
    log.info("login attempt for %r", repr(user))
    # ok: py-taint-log-injection
    log.info("login attempt for %s", repr(user)[1:-1])
    # ok: py-taint-log-injection
    log.info("login form received")
    return "ok"
