"""Platform adapters: one module per platform, each speaking that platform's real HTTP contract."""
