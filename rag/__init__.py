"""Question answering over documents with verifiable, character-offset citations."""

__version__ = "0.1.0"
