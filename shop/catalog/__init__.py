"""The catalogue: products, search, and loading them from the seed file."""
