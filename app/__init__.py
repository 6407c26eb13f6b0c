"""Chatlio Segment Setup: connect Chatlio live chat to Segment, and prove that it works."""

__version__ = "0.1.0"
APP_NAME = "Chatlio Segment Setup"
APP_ID = "io.github.chatlio_segment_setup.ChatlioSegmentSetup"
