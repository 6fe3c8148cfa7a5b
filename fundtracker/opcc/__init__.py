"""The OPCC's side (issue 16): the partnerships it funds, the returns they send, and the county
figures across them. Plain core code: no Qt."""
