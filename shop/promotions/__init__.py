"""Promotion codes: what admins offer (`services`, `models`), and the code on a customer's
cart (`routes`: `POST|DELETE /cart/promotion`). Stripe holds the coupons and counts the
redemptions; orders keep what Stripe charged (`orders.settlement`)."""
