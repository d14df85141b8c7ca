"""Staff accounts: login with password + TOTP, server-side sessions holding the unlocked key,
and account administration (no Flask here)."""
