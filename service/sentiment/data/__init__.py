"""Data files of the sentiment package (a package so that wheels include its JSON)."""
