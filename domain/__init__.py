"""Trustledger's domain: the contract between a council and its children's trust, as events."""
