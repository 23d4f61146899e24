"""ASGI entry point: ``citystat workbench serve`` runs it under uvicorn on 127.0.0.1."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
application = get_asgi_application()
