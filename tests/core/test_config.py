"""Source configs: each mistake gives one clear message naming file, key and fix; exit 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from corpuskit.config import ConfigError, load_source_config

GOOD = """
name: web
kind: warc
inputs: ["data/*.warc.gz"]
output: corpus
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "src.yaml"
    p.write_text(text)
    return p


def test_valid_config_loads_with_defaults(tmp_path):
    cfg = load_source_config(write(tmp_path, GOOD))
    assert cfg.name == "web" and cfg.kind == "warc"
    assert cfg.fetch.retries == 5
    assert cfg.base_dir() == tmp_path.resolve()
    assert len(cfg.config_hash()) == 16


def test_config_hash_changes_with_options(tmp_path):
    a = load_source_config(write(tmp_path, GOOD)).config_hash()
    b = load_source_config(write(tmp_path, GOOD + "options: {extractor: resiliparse}\n")).config_hash()
    assert a != b


@pytest.mark.parametrize(
    "text, expected",
    [
        (GOOD + "inptus: [x]\n", ["key 'inptus'", "unknown key"]),
        ("name: web\nkind: warc\n", ["key 'inputs'", "required but missing"]),
        (GOOD.replace("kind: warc", "kind: wark"), ["key 'kind'", "unknown kind 'wark'", "warc"]),
        (GOOD + "fetch: {retries: many}\n", ["key 'fetch.retries'", "integer"]),
        (GOOD + "fetch: {timeout_s: -1}\n", ["key 'fetch.timeout_s'", "greater than 0"]),
        (GOOD.replace("name: web", "name: 'we b'"), ["key 'name'"]),
        ("name: [unclosed\n", ["not valid YAML", "line"]),
        ("- just\n- a list\n", ["must be a mapping"]),
        (GOOD + "inputs: []\n", ["key 'inputs'"]),
    ],
)
def test_bad_configs_name_file_and_key(tmp_path, text, expected):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_source_config(p)
    msg = str(e.value)
    assert str(p) in msg
    for frag in expected:
        assert frag in msg, msg


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_source_config(tmp_path / "nope.yaml")


def test_yaml_is_loaded_safely(tmp_path):
    p = write(tmp_path, GOOD + "extra: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_source_config(p)


def test_cli_exits_2_without_traceback(tmp_path):
    p = write(tmp_path, GOOD + "inptus: [x]\n")
    r = subprocess.run(
        [sys.executable, "-m", "corpuskit.cli", "ingest", str(p)], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr + r.stdout
    assert "inptus" in r.stderr


@pytest.mark.parametrize(
    "section, expected",
    [
        ("curate: {filters: [gopher_qualty]}\n", "curate.filters"),
        ("curate: {gopher_quality: {min_doc_wrds: 10}}\n", "curate.gopher_quality.min_doc_wrds"),
        ("dedup: {threshold: 1.5}\n", "dedup.threshold"),
        ("options: {extractor: lynx}\n", "options.extractor"),
    ],
)
def test_stage_sections_are_validated_at_load(tmp_path, section, expected):
    p = write(tmp_path, GOOD + section)
    with pytest.raises(ConfigError) as e:
        load_source_config(p)
    assert f"key '{expected}" in str(e.value), str(e.value)
    assert str(p) in str(e.value)
