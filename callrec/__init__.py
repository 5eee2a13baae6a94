"""callrec: record, transcribe and keep the calls of one telephone line, and prove it every day."""

__version__ = "0.1.0"
