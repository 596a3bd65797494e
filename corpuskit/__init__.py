"""corpuskit: build, curate, mix and ablate pretraining corpora."""

__version__ = "0.1.0"
