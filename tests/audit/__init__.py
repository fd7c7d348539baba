"""The audit log: RFC 9162 hashing and proofs, and C2SP signed checkpoints."""
