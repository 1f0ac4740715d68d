"""Brain MRS prior-authorization documentation extractor."""

__version__ = "0.2.0"
PIPELINE_VERSION = __version__
