"""A minimal production-like Django project: DEBUG off, no database, one view.

The middleware is Django's usual request path without sessions/auth (they need a database).
"""
DEBUG = False
SECRET_KEY = "load-test-only-not-a-secret"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
ROOT_URLCONF = "benchsite.urls"
INSTALLED_APPS = []
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
DATABASES = {}
USE_TZ = True
LOGGING_CONFIG = None
