"""Settings a user can set: [settings] in sources.toml, checked, recorded, overridden by flags."""
import json
from pathlib import Path

import pytest

from index.build import build_index, open_index
from index.settings import Settings, make_settings
from ingest.chunk import ChunkSettings
from ingest.errors import SettingsError, VerbatimError
from tests.conftest import FakeEmbedder, copy_corpus, fake_model_dir


def _with_settings(corpus: Path, table: str) -> Path:
    path = corpus / "sources.toml"
    path.write_text(table + "\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    return corpus


@pytest.fixture
def corpus(tmp_path) -> Path:
    return copy_corpus(tmp_path)


def test_the_shipped_manifest_documents_the_table_and_gives_the_defaults(corpus):
    text = (corpus / "sources.toml").read_text(encoding="utf-8")
    assert "# [settings]" in text and "# [settings.chunking]" in text
    assert make_settings(Path("m"), corpus) == Settings(model_dir=Path("m"))


def test_the_table_sets_index_and_answer_settings_and_flags_win(corpus):
    _with_settings(corpus, "[settings]\ntop_k = 5\nmin_confidence = 0.04\nfusion = \"rrf\"\nrrf_k = 30\n"
                           "lexical_weight = 1\nexact_max_passages = 10\nivf_nprobe = 4\n"
                           "[settings.chunking]\nmax_sentences = 2")
    s = make_settings(Path("m"), corpus)
    assert (s.top_k, s.min_confidence, s.fusion, s.rrf_k, s.lexical_weight, s.exact_max_passages, s.ivf_nprobe) == (
        5, 0.04, "rrf", 30, 1.0, 10, 4)
    assert s.chunking == ChunkSettings(max_sentences=2, max_chars=600)
    flagged = make_settings(Path("m"), corpus, {"top_k": 7, "min_confidence": None})  # None: flag not given
    assert flagged.top_k == 7 and flagged.min_confidence == 0.04


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("top_kk = 3", "unknown setting 'top_kk'; allowed: top_k, min_confidence"),
        ("top_k = \"3\"", "top_k must be a whole number (got '3')"),
        ("top_k = 3.5", "top_k must be a whole number (got 3.5)"),
        ("top_k = 0", "top_k must be between 1 and 50 (got 0)"),
        ("top_k = true", "top_k must be a whole number (got True)"),
        ("min_confidence = 2", "min_confidence must be between 0 and 1.01 (got 2.0)"),
        ("fusion = \"max\"", "fusion must be one of weighted, rrf, dense, lexical (got 'max')"),
        ("people_context = 1", "people_context must be true or false (got 1)"),
        ("frame_weight = 1.5", "frame_weight must be between 0 and 1 (got 1.5)"),
        ("frame_weight = -0.1", "frame_weight must be between 0 and 1 (got -0.1)"),
        ("frame_weight = \"low\"", "frame_weight must be a number (got 'low')"),
        ("chunking = 3", "chunking must be a table"),
        ("[settings.chunking]\nmax_lines = 3", "unknown setting chunking.max_lines; allowed: max_sentences, max_chars"),
        ("[settings.chunking]\nmax_chars = 10", "chunking.max_chars must be between 50 and 10000 (got 10)"),
    ],
)
def test_a_bad_setting_is_named_with_the_rule(corpus, table, message):
    _with_settings(corpus, table if table.startswith("[") else "[settings]\n" + table)
    with pytest.raises(SettingsError) as err:
        make_settings(Path("m"), corpus)
    assert message in str(err.value) and "sources.toml" in str(err.value)
    assert isinstance(err.value, VerbatimError)


def test_frame_weight_is_an_answer_setting(corpus, tmp_path):
    """frame_weight comes through [settings] like the other search weights, is recorded with
    them in meta.json, and changing it makes no index stale (it applies at query time)."""
    _with_settings(corpus, "[settings]\nframe_weight = 0.5")
    s = make_settings(Path("m"), corpus)
    assert s.frame_weight == 0.5 and s.search_params()["frame_weight"] == 0.5
    assert "frame_weight" not in s.index_params()
    assert make_settings(Path("m"), corpus, {"frame_weight": 1}).frame_weight == 1.0
    with pytest.raises(SettingsError, match="frame_weight must be between 0 and 1 \\(got 2\\)"):
        Settings(model_dir=Path("m"), frame_weight=2)


def test_a_bad_flag_is_named_too(corpus):
    with pytest.raises(SettingsError, match="command line: top_k must be between 1 and 50 \\(got 99\\)"):
        make_settings(Path("m"), corpus, {"top_k": 99})


def test_index_settings_are_recorded_and_answer_settings_do_not_make_an_index_stale(corpus, tmp_path):
    model = fake_model_dir(tmp_path)
    emb = FakeEmbedder()
    _with_settings(corpus, "[settings]\nexact_max_passages = 10\nivf_nprobe = 2\n[settings.chunking]\nmax_sentences = 2")
    settings = make_settings(model, corpus)
    build_index(corpus, tmp_path / "idx", settings, emb, quiet=True)
    meta = json.loads((tmp_path / "idx" / "meta.json").read_text())
    assert meta["settings"]["chunking"]["max_sentences"] == 2 and meta["settings"]["exact_max_passages"] == 10
    assert meta["vector_index"]["type"] == "ivf-sq8" and meta["search"]["ivf_nprobe"] == 2
    # top_k and min_confidence apply at query time: changing them rebuilds nothing.
    text = (corpus / "sources.toml").read_text().replace("[settings]\n", "[settings]\ntop_k = 4\nmin_confidence = 0.03\n", 1)
    (corpus / "sources.toml").write_text(text)
    again = make_settings(model, corpus)
    assert again.top_k == 4
    open_index(corpus, tmp_path / "idx", again, emb, rebuild="never")  # raises if stale


def test_the_cli_reports_a_bad_setting_in_one_line(corpus, tmp_path, capsys):
    from chat.cli import main

    _with_settings(corpus, "[settings]\nfusion = \"best\"")
    rc = main(["ask", "--corpus", str(corpus), "--model", str(fake_model_dir(tmp_path)), "--quiet", "q"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "fusion must be one of" in err and "Traceback" not in err


def test_the_table_names_the_backend_and_the_environment_and_flags_win(corpus, tmp_path, monkeypatch):
    from chat.cli import _settings, build_parser

    _with_settings(corpus, '[settings]\nbackend = "milvus"\nmilvus_uri = "index.db"\nmilvus_collection = "team_a"\n'
                           "check_paraphrase_min = 0.9\ncheck_overlap_weight = 0.2")
    s = make_settings(Path("m"), corpus)
    # A relative Milvus Lite file is in the corpus folder, as the manifest's files are.
    assert (s.backend, s.milvus_uri, s.milvus_collection) == ("milvus", str(corpus / "index.db"), "team_a")
    assert (s.check_paraphrase_min, s.check_overlap_weight) == (0.9, 0.2)
    for var in ("VERBATIM_BACKEND", "VERBATIM_MILVUS_URI", "VERBATIM_MILVUS_COLLECTION"):
        monkeypatch.delenv(var, raising=False)
    args = build_parser().parse_args(["ask", "--corpus", str(corpus), "--model", "m", "q"])
    assert _settings(args).milvus_uri == str(corpus / "index.db")
    monkeypatch.setenv("VERBATIM_MILVUS_URI", "http://milvus:19530")
    monkeypatch.setenv("VERBATIM_MILVUS_COLLECTION", "team_b")
    assert (_settings(args).milvus_uri, _settings(args).milvus_collection) == ("http://milvus:19530", "team_b")
    args = build_parser().parse_args(["ask", "--corpus", str(corpus), "--model", "m", "--backend", "local",
                                      "--milvus-collection", "team_c", "q"])
    assert (_settings(args).backend, _settings(args).milvus_collection) == ("local", "team_c")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('backend = "faiss"', "backend must be one of local, milvus (got 'faiss')"),
        ('milvus_collection = "my-index"', "milvus_collection must be letters, digits or '_'"),
        ('milvus_uri = ""', "milvus_uri must not be empty"),
        ('backend = "milvus"', "the milvus backend needs a milvus_uri"),
        ('milvus_token = "s3cret"', "milvus_token is not read from here, where others may read it; set $VERBATIM_MILVUS_TOKEN"),
        ("check_paraphrase_min = 3", "check_paraphrase_min must be between 0 and 2 (got 3.0)"),
        ('check_overlap_weight = "0.1"', "check_overlap_weight must be a number (got '0.1')"),
    ],
)
def test_a_bad_backend_setting_is_named_with_the_rule(corpus, table, message):
    _with_settings(corpus, "[settings]\n" + table)
    with pytest.raises(SettingsError) as err:
        make_settings(Path("m"), corpus)
    assert message in str(err.value) and "s3cret" not in str(err.value)


def test_no_corpus_folder_means_no_table_to_read(tmp_path):
    """A replica serving an index in Milvus has no corpus: its settings come from the flags."""
    flags = {"backend": "milvus", "milvus_uri": "http://milvus:19530"}
    s = make_settings(Path("m"), tmp_path / "no-corpus", flags)
    assert s == Settings(model_dir=Path("m"), backend="milvus", milvus_uri="http://milvus:19530")
