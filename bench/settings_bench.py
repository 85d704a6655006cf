"""Settings for the benchmark: the product's settings as production would run them.

DEBUG is off so that Django does not record every query (which it does with DEBUG on and
which would inflate the figures), and the urlconf adds a bare view to compare against.
"""

import warnings

from mesoclinic.settings import *  # noqa: F403

# WhiteNoise warns that STATIC_ROOT was never collected; the benchmark asks for no static file.
warnings.filterwarnings("ignore", message="No directory at")

DEBUG = False
ROOT_URLCONF = "bench.urls_bench"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
# One line per request on the console would cost more than the bare view itself.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
