"""Everything that speaks Segment, and nothing that knows Qt."""

# What the app sends with when the user tries it out without a Segment account.
SANDBOX_KEY = "sandbox-test-key"
