"""Trustledger's HTTP edge: FastAPI routers that turn requests into application commands."""
