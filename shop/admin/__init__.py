"""The admin area: a dashboard, the orders and each order in full, shipping; admins only."""
