"""The reviewer web application (FastAPI): intake upload, review queue, case page, decisions, audit.

`create_app` is imported lazily so `extractor --help` does not load FastAPI.
"""


def __getattr__(name: str):
    if name == "create_app":
        from .app import create_app  # lazy: `import extractor.web` must not load FastAPI

        return create_app
    raise AttributeError(name)
