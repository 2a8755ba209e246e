"""A product's history: every change to its stock or visibility, and who made it."""

from ..extensions import db
from .models import ProductEvent


def record(product_id: int, kind: str, actor_id: int | None, note: str) -> None:
    """Add an entry to a product's history (the caller commits it with the change)."""
    db.session.add(ProductEvent(product_id=product_id, kind=kind, actor_id=actor_id, note=note))
