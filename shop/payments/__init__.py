"""Everything Stripe-facing; the only package that imports `stripe`.

`gateway` creates, reads and expires Checkout Sessions; `webhooks` verifies and
dispatches Stripe's events; `emulator` is the built-in Stripe used without a key.
"""

from . import emulator, gateway, webhooks

__all__ = ["emulator", "gateway", "webhooks"]
