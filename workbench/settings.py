"""Django settings of the workbench: served on loopback, hardened cookies, argon2 hashes, django-axes lockouts."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from citystat.quality.landed import CITY_TIMEZONE
from citystat.settings import warehouse_dir, workbench_db_path

SECRET_KEY_ENV = "CITYSTAT_WORKBENCH_SECRET_KEY"


def _secret_key() -> str:
    """$CITYSTAT_WORKBENCH_SECRET_KEY, else a random key kept (mode 600) beside the warehouse, made on first use."""
    if os.environ.get(SECRET_KEY_ENV):
        return os.environ[SECRET_KEY_ENV]
    path = warehouse_dir() / "workbench_secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = _secret_key()
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
# Served to other machines only behind an HTTPS reverse proxy on one origin, e.g. https://workbench.riverton.gov:
# that host is allowed, forms posted from it pass the CSRF origin check, the proxy's X-Forwarded-Proto: https marks
# requests secure, and browsers are told to use HTTPS only (HSTS).
PUBLIC_ORIGIN_ENV = "CITYSTAT_WORKBENCH_ORIGIN"
PUBLIC_ORIGIN = urlsplit(os.environ.get(PUBLIC_ORIGIN_ENV, ""))
if os.environ.get(PUBLIC_ORIGIN_ENV):
    if PUBLIC_ORIGIN.scheme != "https" or not PUBLIC_ORIGIN.hostname or PUBLIC_ORIGIN.path not in ("", "/"):
        raise ImproperlyConfigured(f"${PUBLIC_ORIGIN_ENV} must be an https origin like https://workbench.city.gov")
    ALLOWED_HOSTS.append(PUBLIC_ORIGIN.hostname)
    CSRF_TRUSTED_ORIGINS = [f"https://{PUBLIC_ORIGIN.netloc}"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 365 * 24 * 3600

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "workbench",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
ROOT_URLCONF = "workbench.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
ASGI_APPLICATION = "workbench.asgi.application"

DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": str(workbench_db_path()),
    # the pipeline may be reading the file: wait for its read lock instead of failing the request
    "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher",
                    "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Cookies: always Secure (browsers treat http://127.0.0.1 and localhost as secure contexts; elsewhere only HTTPS,
# see CITYSTAT_WORKBENCH_ORIGIN), HttpOnly, same-site only.
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
SESSION_COOKIE_AGE = 8 * 3600  # a working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Strict"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Login throttling (django-axes): 5 failed attempts for a username from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "flags"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
# Times are stored in UTC (Django writes them to SQLite as naive UTC text, no DST gap or repeat) and shown in the
# city's zone; the inventory declares the workbench's time fields UTC, so staging turns them into the warehouse's
# naive city time. "Today" (a commitment's days overdue) is the city's date.
TIME_ZONE = CITY_TIMEZONE
USE_TZ = True
STATIC_URL = "static/"

LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"null": {"class": "logging.NullHandler"}},
           "loggers": {"axes": {"handlers": ["null"], "propagate": False}}}
