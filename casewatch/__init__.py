"""casewatch core: fetch, parse, relevance, dedup, pipeline, digests. No Discord in here."""

__version__ = "0.1.0"
USER_AGENT = (
    f"casewatch/{__version__} (+https://github.com/casewatch/casewatch; legal-case monitor)"
)
