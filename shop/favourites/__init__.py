"""Favourites: a heart on each product toggles it on the customer's list (`POST
/favourites`), and the Favourites modal (`GET /favourites`) lists them with "Move to cart".
Visitors are sent to log in first, as for checkout: a list is kept with an account."""
