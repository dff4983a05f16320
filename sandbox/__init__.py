"""The platforms' contract fakes: each a small aiohttp app with state that speaks one platform's
documented HTTP contract, and ``sandbox.sandbox`` serving them all (``warta sandbox``).

They stand for the platforms in tests, benches and the local run, so they share no code with the
adapters they judge (a bug cannot agree with itself on both sides): they import only shared/.
"""
