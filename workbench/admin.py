"""User and role management for the office (records are read-only here: they change only through the app's forms)."""
from django.contrib import admin

from workbench.models import Profile

admin.site.register(Profile)
