"""Checkout: one pending Stripe Checkout Session per user, and idempotent fulfilment."""
