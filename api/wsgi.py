"""The WSGI application Zappa (and `flask run`) serves."""

import gc

# Loading the app leaves ~60k objects that live as long as the process and no
# garbage to speak of, yet the cyclic GC would walk them over and over while they
# load (~20 ms of every cold start). So: no collections until the app is built,
# then freeze what it built out of all later collections.
gc.disable()
try:
    from api import snapshot
    from api.app import create_app

    app = create_app()
    snapshot.register()
finally:
    gc.freeze()
    gc.enable()
