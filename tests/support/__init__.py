"""Helpers shared by the tests: plain classes and functions, no fixtures.

Fixtures stay in the ``conftest.py`` files; what they build comes from here.

* ``doubles``: ``RecordingSleep``, ``FailingStore`` (the clock is the public
  ``truelayer_async.testing.FakeClock``).
* ``binaries``: ``require_binary``.
* ``token_endpoint``: the sandbox URLs and client of the auth tests, ``token_body``,
  ``token_response``, ``form_of``.
* ``reliability``: the pieces of the reliability campaign (``Secrets``, ``Guard``,
  ``TokenServer``, …).
"""
