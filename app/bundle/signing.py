"""Who made this bundle: an Ed25519 signature over manifest.json, checked against trusted keys.

The manifest hashes every file of the bundle, so signing the manifest signs the
bundle. The signature lives beside it in `manifest.sig`, a DSSE envelope (the
signing envelope of in-toto and Sigstore, which the OpenSSF model-signing
format also uses) whose payload is an in-toto Statement naming manifest.json
by its sha256. Keys are Ed25519 (the `cryptography` library does the maths):

- a private key is a PKCS#8 PEM file (mode 0600);
- a public key is one line, `ed25519:<base64 of the 32 raw bytes> [label]`,
  or a PEM file; its key id is `ed25519:` + the first 16 hex digits of the
  sha256 of the raw bytes.

Trust: the keys in settings (`trust.keys`) plus every `*.pub` under
`BASTION_HOME/keys/trusted/`. A bundle built on this machine is signed with a
local key that is generated on first use and trusted at once (the starter
bundle is made locally, so it is as trustworthy as this machine); an
organisation signs with its own key (`BASTION_SIGNING_KEY` or
`builder sign --key`) and users trust its public key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Literal

from app import paths
from app.bundle.manifest import MANIFEST_NAME
from app.errors import BundleError

if TYPE_CHECKING:
    from app.settings import Settings

log = logging.getLogger(__name__)

SIGNATURE_NAME = "manifest.sig"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "https://bastion.invalid/bundle-manifest/v1"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
SIGNING_KEY_ENV = "BASTION_SIGNING_KEY"
_MAX_SIG = 64 * 1024

SignatureState = Literal["trusted", "unsigned", "unknown-signer", "invalid"]


def keys_dir() -> Path:
    return paths.home() / "keys"


def trusted_keys_dir() -> Path:
    """Every `*.pub` here is a trusted bundle signer."""
    return keys_dir() / "trusted"


def local_key_path() -> Path:
    return keys_dir() / "local-signing.pem"


# -- keys ------------------------------------------------------------------------


def _raw(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key) -> str:
    return "ed25519:" + hashlib.sha256(_raw(public_key)).hexdigest()[:16]


def public_key_line(public_key, label: str = "") -> str:
    """The one-line form users paste into settings or save as a `.pub` file."""
    line = "ed25519:" + base64.b64encode(_raw(public_key)).decode("ascii")
    return f"{line} {label}".strip()


def parse_public_key(text: str):
    """An Ed25519 public key from a `ed25519:BASE64 [label]` line or a PEM block; (key, label)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key, ""
    head, _, label = text.partition(" ")
    if not head.startswith("ed25519:"):
        raise ValueError("expected `ed25519:<base64>`")
    raw = base64.b64decode(head[len("ed25519:"):], validate=True)
    return Ed25519PublicKey.from_public_bytes(raw), label.strip()


def load_private_key(path: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = Path(path).expanduser()
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise BundleError(f"{path}: cannot read the signing key ({exc})",
                          hint="give an unencrypted Ed25519 PEM key, e.g. one made by `builder keygen`") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError(f"{path}: not an Ed25519 private key", hint="make one with `builder keygen`")
    return key


def generate_key(path: Path, *, label: str = "") -> Path:
    """Write a new private key to `path` (0600) and its public line to `path.pub`; returns the .pub path."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = Path(path).expanduser()
    if path.exists():
        raise BundleError(f"{path} already exists", hint="choose another path; an existing key is never overwritten")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    pub = path.with_name(path.name + ".pub")
    pub.write_text(public_key_line(key.public_key(), label) + "\n", encoding="utf-8")
    return pub


def trust_public_key(line: str, *, name: str) -> Path:
    """Add a public key to `BASTION_HOME/keys/trusted/NAME.pub`."""
    from app.atomic import write_text

    key, label = parse_public_key(line)
    dst = trusted_keys_dir() / f"{name}.pub"
    write_text(dst, public_key_line(key, label or name) + "\n")
    return dst


def local_signing_key():
    """This machine's bundle key, made (and trusted) on first use."""
    path = local_key_path()
    if not path.exists():
        generate_key(path, label="local")
        trust_public_key(path.with_name(path.name + ".pub").read_text(encoding="utf-8"), name="local")
        log.info("made a local bundle signing key at %s (trusted on this machine)", path)
    return load_private_key(path)


def default_signing_key():
    """`BASTION_SIGNING_KEY` (an organisation's key file) when set, else the local key."""
    env = os.environ.get(SIGNING_KEY_ENV)
    return load_private_key(Path(env)) if env else local_signing_key()


# -- trust -----------------------------------------------------------------------


@dataclass
class TrustPolicy:
    """The keys a bundle may be signed by, and whether unsigned bundles are let through."""

    keys: dict[str, tuple[object, str]] = field(default_factory=dict)
    """key id -> (public key, label)."""
    allow_unsigned: bool = False
    problems: list[str] = field(default_factory=list)
    """Trusted-key entries that could not be read (reported, never fatal)."""

    @classmethod
    def build(cls, entries: Iterable[str] = (), *, allow_unsigned: bool = False) -> "TrustPolicy":
        """From settings entries (key lines or key files) plus the trusted-keys directory."""
        policy = cls(allow_unsigned=allow_unsigned)
        sources: list[tuple[str, str]] = []
        for entry in entries:
            entry = str(entry).strip()
            if entry.startswith(("ed25519:", "-----BEGIN")):
                sources.append(("settings", entry))
            else:
                sources.append((entry, _read_small(Path(entry).expanduser())))
        tdir = trusted_keys_dir()
        if tdir.is_dir():
            for pub in sorted(tdir.glob("*.pub")):
                sources.append((str(pub), _read_small(pub) or ""))
        for where, text in sources:
            try:
                key, label = parse_public_key(text or "")
            except Exception as exc:  # a bad entry is reported; it trusts nothing
                policy.problems.append(f"{where}: not a usable public key ({exc.__class__.__name__})")
                continue
            policy.keys[key_id(key)] = (key, label or Path(where).stem)
        return policy

    @classmethod
    def from_settings(cls, settings: "Settings") -> "TrustPolicy":
        return cls.build(list(settings.trust.keys), allow_unsigned=settings.trust.allow_unsigned)

    @classmethod
    def default(cls) -> "TrustPolicy":
        """From the user's settings; a settings file that cannot be read trusts only the keys directory."""
        from app.errors import ConfigError
        from app.settings import load_settings

        try:
            return cls.from_settings(load_settings())
        except ConfigError as exc:
            log.warning("settings unreadable, trusting only %s: %s", trusted_keys_dir(), exc)
            return cls.build()


def _read_small(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read(_MAX_SIG).decode("utf-8", errors="replace")
    except OSError:
        return ""


# -- sign and check ----------------------------------------------------------------


def _pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def _statement(manifest_bytes: bytes, name: str) -> bytes:
    body = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": MANIFEST_NAME, "digest": {"sha256": hashlib.sha256(manifest_bytes).hexdigest()}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {"bundle": name},
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign_bundle(root: Path, private_key=None) -> str:
    """Write `manifest.sig` for the bundle's current manifest.json; returns the signer's key id."""
    from app.atomic import write_text

    root = Path(root)
    key = private_key if private_key is not None else default_signing_key()
    manifest_bytes = (root / MANIFEST_NAME).read_bytes()
    name = json.loads(manifest_bytes).get("name", "")
    payload = _statement(manifest_bytes, name)
    envelope = {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [{"keyid": key_id(key.public_key()),
                        "sig": base64.b64encode(key.sign(_pae(PAYLOAD_TYPE, payload))).decode("ascii")}],
    }
    write_text(root / SIGNATURE_NAME, json.dumps(envelope, indent=2) + "\n")
    return key_id(key.public_key())


@dataclass(frozen=True)
class SignatureStatus:
    """What `check_signature` found."""

    state: SignatureState
    key_id: str | None = None
    signer: str | None = None
    """The trusted key's label, when the signer is trusted."""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "trusted"

    def describe(self) -> str:
        if self.state == "trusted":
            return f"signed by {self.signer} ({self.key_id}), trusted"
        if self.state == "unknown-signer":
            return f"signed by an untrusted key {self.key_id}"
        if self.state == "unsigned":
            return "not signed"
        return f"signature invalid: {self.detail}"


def check_signature(root: Path, policy: TrustPolicy) -> SignatureStatus:
    """Is manifest.json signed, unaltered since, by a key the policy trusts?"""
    from cryptography.exceptions import InvalidSignature

    root = Path(root)
    sig_path = root / SIGNATURE_NAME
    if not sig_path.is_file():
        return SignatureStatus("unsigned")
    try:
        if sig_path.stat().st_size > _MAX_SIG:
            raise ValueError(f"{SIGNATURE_NAME} is larger than {_MAX_SIG} bytes")
        env = json.loads(sig_path.read_text(encoding="utf-8"))
        payload = base64.b64decode(env["payload"], validate=True)
        if env.get("payloadType") != PAYLOAD_TYPE:
            raise ValueError(f"payloadType {env.get('payloadType')!r}")
        statement = json.loads(payload)
        subject = statement["subject"][0]
        sigs = env["signatures"]
        if not isinstance(sigs, list) or not sigs:
            raise ValueError("no signatures")
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        return SignatureStatus("invalid", detail=f"{SIGNATURE_NAME} is damaged ({exc.__class__.__name__}: {exc})")
    manifest_sha = hashlib.sha256((root / MANIFEST_NAME).read_bytes()).hexdigest()
    if subject.get("name") != MANIFEST_NAME or (subject.get("digest") or {}).get("sha256") != manifest_sha:
        return SignatureStatus("invalid", detail="manifest.json was changed after it was signed")
    first_kid = None
    for s in sigs[:8]:
        kid = str(s.get("keyid", "")) if isinstance(s, dict) else ""
        first_kid = first_kid or kid
        entry = policy.keys.get(kid)
        if entry is None:
            continue
        try:
            entry[0].verify(base64.b64decode(s.get("sig", ""), validate=True), _pae(PAYLOAD_TYPE, payload))
        except (InvalidSignature, ValueError):
            return SignatureStatus("invalid", key_id=kid, detail=f"the signature does not verify with trusted key {kid}")
        return SignatureStatus("trusted", key_id=kid, signer=entry[1])
    return SignatureStatus("unknown-signer", key_id=first_kid)


def enforce(root: Path, policy: TrustPolicy) -> SignatureStatus:
    """Raise `BundleError` unless the bundle's signer is trusted (or the policy lets it through)."""
    status = check_signature(root, policy)
    if status.ok:
        return status
    if status.state == "invalid":
        raise BundleError(f"bundle {root}: {status.describe()}; refused",
                          hint="the bundle was altered after it was signed: copy it again from its source")
    if policy.allow_unsigned:
        log.warning("bundle %s is %s; loading it because trust.allow_unsigned is on", root, status.describe())
        return status
    what = "is not signed" if status.state == "unsigned" else f"is signed by {status.key_id}, which is not a trusted key"
    raise BundleError(
        f"bundle {root} {what}; refused",
        hint="trust its signer's public key (`bastion bundle trust KEY`, or `trust.keys` in settings), "
             "or set `trust.allow_unsigned = true` (BASTION_TRUST__ALLOW_UNSIGNED=1) to load it anyway",
    )
