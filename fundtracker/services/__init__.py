"""Services: every change to the data goes through one of these, in one unit of work."""
