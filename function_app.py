"""The Azure Functions entry point: build the Durable app and register the blueprints.

Nothing else lives here (ARCHITECTURE "one orchestrator, two hosts"): routes and the timer are
in ``orchestrators/http_api.py``, orchestrators in ``orchestrators/``, activities in
``activities/``. Every HTTP function requires a function key.

Telemetry is configured here because this is the process entry point: the environment is
read once, at start-up, by ``shared.telemetry.configure_telemetry``.
"""

from __future__ import annotations

import importlib
import logging
import os

import azure.durable_functions as df
import azure.functions as func

from orchestrators.http_api import bp as http_api_bp
from shared.telemetry import configure_telemetry

# ---------------------------------------------------------------------------------------
# Blueprints of the orchestrators and activities, each a module exposing ``bp``
# (a ``df.Blueprint``). Add a module here when it is written; one not written yet is
# skipped with a warning so the app still indexes. A module that exists but fails to
# import raises: a broken deployment must not look like a missing feature.
BLUEPRINT_MODULES: tuple[str, ...] = (
    "orchestrators.migrate",  # orchestrator "migrate"
    "orchestrators.rollback",  # orchestrator "rollback"
    "orchestrators.delta",  # orchestrator "delta"
    "activities.rollback",  # rollback activities
    "activities.migration",  # migrate activities
    "activities.delta",  # delta activities
)
# ---------------------------------------------------------------------------------------

log = logging.getLogger("function_app")


def _register_available(target: df.DFApp, modules: tuple[str, ...]) -> list[str]:
    """Register each module's ``bp``; return the modules that do not exist yet."""
    missing = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            missing.append(name)
            continue
        target.register_functions(module.bp)
    return missing


def build_app() -> tuple[df.DFApp, list[str]]:
    """A new app with every blueprint registered, and the blueprint modules still missing.

    Tests index a fresh app each time: ``get_functions()`` runs once per app, as the host
    runs it once.
    """
    new_app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
    new_app.register_functions(http_api_bp)
    return new_app, _register_available(new_app, BLUEPRINT_MODULES)


configure_telemetry(os.environ)
app, MISSING_BLUEPRINTS = build_app()
if MISSING_BLUEPRINTS:
    log.warning("not built yet, so not registered: %s", ", ".join(MISSING_BLUEPRINTS))
