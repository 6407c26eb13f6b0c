"""Chatlio Segment Setup: connect Chatlio live chat to Segment, and prove that it works."""

__version__ = "0.1.0"
APP_NAME = "Chatlio Segment Setup"
# Each platform's identifier, each valid by that platform's rules (tests/test_platform_ids.py).
# freedesktop (desktop file, AppStream, Wayland app id): reverse DNS; underscores allowed, and
# the GitHub organisation's hyphen written as one, as the AppStream spec asks.
APP_ID = "io.github.chatlio_segment_setup.ChatlioSegmentSetup"
# Apple's CFBundleIdentifier allows only letters, digits, '-' and '.'. The code signature's
# designated requirement, and so the Keychain's trust in the app, is tied to it: never change
# it after the first signed release.
MACOS_BUNDLE_ID = "io.github.chatlio-segment-setup.ChatlioSegmentSetup"
