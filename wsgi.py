"""WSGI entry point: ``gunicorn wsgi:app`` (configuration from the environment).

Each worker loads the triage model here, at boot, so that no reporter's submission waits for it.
"""

import logging
import time

import triage
from portal import create_app

app = create_app()

_t = time.perf_counter()
_warm = triage.route("预热：仓库里存放液化气钢瓶")
logging.getLogger("wsgi").info(
    "triage ready in %.1f s (model %s)", time.perf_counter() - _t, _warm.model_version
)
