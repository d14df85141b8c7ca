"""Envelope encryption for reports: keys, sealed fields, encrypted files, receipts, certificates.

Built only from `cryptography` primitives (AES-256-GCM, HPKE X25519/HKDF-SHA256, Ed25519) and
Argon2id (argon2-cffi). Nothing here imports Flask. See docs/security.md for the key hierarchy.
"""
