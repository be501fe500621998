"""Verbatim: chat."""
