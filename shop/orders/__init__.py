"""Orders: their states, the one place that moves them, and the My Orders modal."""
