"""Performance benchmarks, outside the normal test run: ``python -m benchmarks``.

Each case measures our code and a baseline on the same data in the same run and prints both
times, their ratio and peak memory, so a slow machine slows both sides alike.
"""
