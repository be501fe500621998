"""Verbatim: chat, the end of the flow.

sources.toml → load → parse → attribute → chunk → embed → Index → search → ``answer → render``

Chooses the quotes and decides whether the corpus answers (``answer``), renders them for
people (``render``, ``web``) and serves them (``cli``, ``web``); ``evaluate`` measures it.
"""
