"""Brain MRS prior-authorization documentation extractor."""

__version__ = "0.1.0"
PIPELINE_VERSION = __version__
