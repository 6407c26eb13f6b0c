"""What the Public API can prove about a setup: the token's workspace and region, which source a
key belongs to, a Chatlio source created, its connections, and Segment's count of test events.

Each module is one use case, Qt-free, shared by the command line and the GUI.
"""
