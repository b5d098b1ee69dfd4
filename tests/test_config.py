"""Settings from the environment: types, overrides, errors."""

import pytest

from rag.core.config import Settings

pytestmark = pytest.mark.unit


def test_environment_values_take_their_field_types_and_flags_win():
    env = {"RAG_CHUNK_SIZE": "400", "RAG_MAX_FILE_MB": "2.5", "RAG_DB": "/data/store"}
    settings = Settings.from_env(env, chunk_size=250)
    assert settings.chunk_size == 250 and settings.max_file_mb == 2.5
    assert str(settings.db) == "/data/store" and settings.db.name == "store"


def test_a_non_number_is_an_error_naming_the_variable():
    with pytest.raises(ValueError, match="RAG_TOP_K='many' is not a number"):
        Settings.from_env({"RAG_TOP_K": "many"})
