"""The setup wizard's pages, one module each (only the first is imported before the first paint)."""
