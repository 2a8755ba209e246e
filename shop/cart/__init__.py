"""The cart: one per customer, edited in a modal; lines change atomically in the database."""
