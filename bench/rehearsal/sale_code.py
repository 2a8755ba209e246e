"""`python -m bench.rehearsal.sale_code CODE USES PERCENT`: the sale's limited promotion
code, made as an admin makes one (the shop's service, so at Stripe too: the emulator)."""

import sys

from shop import create_app
from shop.promotions import services


def main(code: str, uses: int, percent: int) -> None:
    """Make `code`, `percent` off, for `uses` redemptions shared by every customer."""
    app = create_app()
    with app.app_context():
        new = services.NewPromotion(
            code=code, percent_off=percent, amount_off_cents=None, currency=None,
            max_redemptions=uses, expires_at=None, minimum_cents=None, first_order_only=False,
        )  # fmt: skip
        services.create(new, None)
    print(f"made {code}: {percent}% off, {uses} uses")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
