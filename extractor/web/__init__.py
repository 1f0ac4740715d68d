"""The reviewer web application (FastAPI): intake upload, review queue, case page, decisions, audit.

`app` builds the application; `deps` answers who is asking. Two fronts of routes, `api` (JSON, bearer token)
and `pages` (HTML, session cookie), are thin over `actions`, the operations both call, and never import each
other; `fhir` (Da Vinci PAS `Claim/$submit` and `$inquire`, bearer token, FHIR JSON) is a third front
over `pas_actions`, which takes the same intake path as an upload; `case_view` and `page_images` build what
the case page draws; `worker_pool` spawns the `worker`
processes that prefill queued cases; `commands` runs `serve` and `users`.

`create_app` is imported lazily so `extractor --help` does not load FastAPI.
"""


def __getattr__(name: str):
    if name == "create_app":
        from .app import create_app  # lazy: `import extractor.web` must not load FastAPI

        return create_app
    raise AttributeError(name)
