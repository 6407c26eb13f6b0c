"""Segment's Public API (api.segmentapis.com): workspace, sources, connections and counts.

Qt-free, beside the Tracking API client. `hosts` says where a workspace's API lives, `params`
writes query strings (the one place the array encoding is chosen), `models` holds what the
answers mean, `errors` turns Segment's error envelope into sentences, `client` makes the calls.
"""

# Chatlio's entry in Segment's source catalog (segment-docs src/_data/catalog/sources.yml).
CHATLIO_METADATA_ID = "W3065KyMWF"
