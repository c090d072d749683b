"""Extraction organised by the fact it extracts: one folder per fact (places, time, ...)."""
