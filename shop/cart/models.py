"""Cart lines: one cart per customer, one line per product."""

from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import Product
from ..extensions import db
from ..models import TimestampMixin


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
