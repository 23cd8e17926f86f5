"""StreamLake's HTTP ingestion service (``streamlake serve``).

    from streamlake.http import ServeSettings, create_app
    app = create_app(ServeSettings(producer=ProducerConfig.from_env()))
    # uvicorn 'streamlake.http:create_app' --factory, or mount it in your app

Modules: app (routes, gate, health, drain), produce (the produce endpoint),
results (per-event answers), problems (RFC 9457 errors), auth (API keys),
metrics (Prometheus), settings (configuration), openapi, server (uvicorn).
"""

from streamlake.http.app import create_app
from streamlake.http.settings import ApiKey, Limits, ServeSettings, load_settings

__all__ = ["ApiKey", "Limits", "ServeSettings", "create_app", "load_settings"]
