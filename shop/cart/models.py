"""Cart lines: one cart per customer, one line per product; and the code on the cart."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import Product
from ..extensions import db
from ..models import TimestampMixin, UTCDateTime, utcnow


class CartItem(TimestampMixin, db.Model):
    """One line of a user's cart (one cart per user, one line per product)."""

    __tablename__ = "cart_items"
    __table_args__ = (
        # The conflict target of the add upsert: two adds of one product share one line.
        UniqueConstraint("user_id", "product_id", name="uq_cart_items_user_id_product_id"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int]

    product: Mapped[Product] = relationship()

    def __repr__(self) -> str:
        return f"<CartItem user={self.user_id} product={self.product_id} x{self.quantity}>"


class CartCode(db.Model):
    """The promotion code a customer typed into their cart (at most one). The cart keeps
    it as typed; the promotions area says whether it applies and what it takes off."""

    __tablename__ = "cart_codes"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(20))
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
