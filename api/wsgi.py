"""The WSGI application Zappa (and `flask run`) serves."""

from api import create_app

app = create_app()
