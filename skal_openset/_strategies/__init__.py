"""Query strategies: one module each, all on :class:`QueryStrategy`."""
