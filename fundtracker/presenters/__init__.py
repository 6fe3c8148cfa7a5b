"""Presenters: what a table or panel of the window shows and what an edit there means, in plain
Python the tests drive without Qt (after moneyGuru's ``core/gui``). The widgets only adapt."""
