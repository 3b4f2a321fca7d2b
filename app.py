"""The Chalice application: created here, wired with Powertools, routes registered from Blueprints."""

from chalice.app import Chalice

from chalicelib import api
from chalicelib.api import middleware

app = Chalice(app_name="patient-share")
middleware.install(app)
api.register(app)
