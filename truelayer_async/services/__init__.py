"""The services hanging off a Session: ``tl.auth``, ``tl.data``, ``tl.verification``."""
