"""The tasklake API. `api.app.create_app()` builds it; nothing runs at import.

This package imports nothing itself, so `api.wsgi` can set up the process
before the first module of the app is loaded.
"""
