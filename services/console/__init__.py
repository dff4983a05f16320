"""The operators' console: topic metrics for Prometheus, the dashboard, operator actions and
lifecycle webhooks. It only reads the topics and writes operator outcomes; it holds no state
that the topics can't rebuild."""
