"""Report intake as plain Python: validation, proof-of-work, uploads, filing, receipt follow-up.

Both the HTML blueprint and the JSON API call this package; neither holds intake rules itself.
"""
