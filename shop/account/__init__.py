"""The signed-in customer's account page: password, sessions, their data, deleting it."""
