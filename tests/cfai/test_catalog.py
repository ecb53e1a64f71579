"""Model facts: both gpt-oss models, their prices and costs, and safe defaults for any other name."""

from __future__ import annotations

import pytest

from cfai import DEFAULT_MODEL, ModelInfo, get_model_info
from cfai.catalog import DEFAULT_EMBEDDING_MODEL, UNKNOWN_MODEL_DEFAULTS, get_embedding_model_info
from cfai.wire import Usage


@pytest.mark.parametrize(
    ("name", "input_price", "output_price"),
    [("@cf/openai/gpt-oss-120b", 0.35, 0.75), ("@cf/openai/gpt-oss-20b", 0.20, 0.30)],
)
def test_known_models(name, input_price, output_price):
    info = get_model_info(name)
    assert info.name == name
    assert info.known
    assert info.context_window == 128_000
    assert info.max_output_tokens == 128_000
    assert (info.input_price_per_m, info.output_price_per_m) == (input_price, output_price)
    assert info.reasoning_efforts == ("low", "medium", "high")
    assert info.default_reasoning_effort == "medium"
    assert info.supports_reasoning and info.supports_tools and info.supports_structured_output
    assert info.input_modalities == ("text",)


def test_default_model_is_the_120b():
    assert DEFAULT_MODEL == "@cf/openai/gpt-oss-120b"
    assert get_model_info(DEFAULT_MODEL).known


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("gpt-oss-120b", "@cf/openai/gpt-oss-120b"),
        ("openai/gpt-oss-20b", "@cf/openai/gpt-oss-20b"),
        ("/openai/gpt-oss-20b", "@cf/openai/gpt-oss-20b"),
        ("  @cf/openai/gpt-oss-120b \n", "@cf/openai/gpt-oss-120b"),
    ],
)
def test_prefix_less_names(alias, name):
    assert get_model_info(alias) == get_model_info(name)


@pytest.mark.parametrize(
    "name", ["@cf/meta/llama-3.1-8b-instruct", "gpt-5", "openai/gpt-oss-999b", "", "@cf/openai/", "🙂"]
)
def test_unknown_names_get_safe_defaults_and_never_raise(name):
    info = get_model_info(name)
    assert not info.known
    assert info.name == name.strip()
    assert info.context_window == UNKNOWN_MODEL_DEFAULTS.context_window == 32_768
    assert info.max_output_tokens == 4_096
    assert info.input_price_per_m is None
    assert info.cost(Usage(input_tokens=1000, output_tokens=1000)) is None
    assert info.default_reasoning_effort is None


def test_cost_in_usd():
    big = get_model_info("@cf/openai/gpt-oss-120b")
    small = get_model_info("@cf/openai/gpt-oss-20b")
    usage = Usage(input_tokens=1_000_000, output_tokens=2_000_000, total_tokens=3_000_000, cached_tokens=500)
    assert big.cost(usage) == pytest.approx(0.35 + 1.50)
    assert small.cost(usage) == pytest.approx(0.20 + 0.60)
    assert big.cost(Usage(input_tokens=79, output_tokens=214)) == pytest.approx((79 * 0.35 + 214 * 0.75) / 1e6)


@pytest.mark.parametrize(
    "usage",
    [
        {"input_tokens": 1000, "output_tokens": 2000},
        {"prompt_tokens": 1000, "completion_tokens": 2000, "total_tokens": 3000},
        {"input_tokens": 1000.0, "output_tokens": 2000, "neurons": 3.5},
    ],
)
def test_cost_from_usage_mappings(usage):
    assert get_model_info("gpt-oss-120b").cost(usage) == pytest.approx((1000 * 0.35 + 2000 * 0.75) / 1e6)


def test_cost_of_nothing():
    info = get_model_info(DEFAULT_MODEL)
    assert info.cost(None) is None
    assert info.cost({}) == 0.0
    assert info.cost({"input_tokens": None}) == 0.0


def test_model_info_is_immutable():
    info = get_model_info(DEFAULT_MODEL)
    assert isinstance(info, ModelInfo)
    with pytest.raises(AttributeError):
        info.context_window = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "dimensions", "batch"),
    [("@cf/baai/bge-m3", 1024, 100), ("bge-small-en-v1.5", 384, 100), ("qwen/qwen3-embedding-0.6b", 1024, 32)],
)
def test_embedding_models(name, dimensions, batch):
    info = get_embedding_model_info(name)
    assert info is not None and info.known
    assert (info.dimensions, info.max_batch_size) == (dimensions, batch)
    assert info.name.startswith("@cf/")


def test_embedding_cost_and_unknown_names():
    assert get_embedding_model_info(DEFAULT_EMBEDDING_MODEL).cost(1_000_000) == pytest.approx(0.012)
    assert get_embedding_model_info("@cf/openai/gpt-oss-120b") is None
    assert get_embedding_model_info("nope") is None
