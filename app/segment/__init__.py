"""Everything that speaks Segment, and nothing that knows Qt."""

# What the app sends with when the user tries it out without a Segment account.
SANDBOX_KEY = "sandbox-test-key"
# What the app authenticates to the sandbox's Public API with (never a real token).
SANDBOX_TOKEN = "sandbox-public-api-token"  # noqa: S105 - a made-up one
