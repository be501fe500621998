"""Verbatim: index, the middle of the flow.

sources.toml → load → parse → attribute → chunk → ``embed → Index → search`` → answer → render

Embeds passages (``convert``, ``embed``), builds and updates the index (``build``,
``incremental``), keeps it on disk (``store``, ``vectors``, ``lexical``) and searches it.
The one settings object: ``settings``.
"""
