"""Domain exceptions: each names the file, never its contents."""


class ExtractorError(Exception):
    """Base class for errors a user can act on."""


class DocumentError(ExtractorError):
    """A document could not be read; the message is one line naming the reason."""


class KnowledgeError(ExtractorError):
    """A clinical knowledge file under models/ is missing or invalid."""


class NoReadableDocuments(ExtractorError):
    """Every document of a case failed to read."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in errors))


class FhirError(ExtractorError):
    """A FHIR resource we built or were given does not validate; the message names the element."""


class StoreError(ExtractorError):
    """A store operation a user can act on (unknown user, bad role, bad decision...)."""


class BackfillError(ExtractorError):
    """The backfill cannot start (bad input, output locked, scheduler unreachable)."""


class PasRequestError(FhirError):
    """A Da Vinci PAS request Bundle we cannot accept: the message is the OperationOutcome's diagnostic,
    `expression` the FHIRPath of the element at fault."""

    def __init__(self, diagnostic: str, expression: str = "Bundle", status: int = 400):
        self.diagnostic, self.expression, self.status = diagnostic, expression, status
        super().__init__(diagnostic)


class ServerBusy(ExtractorError):
    """The server's bounded pool for expensive work (password hashing) is full: the client retries later."""
