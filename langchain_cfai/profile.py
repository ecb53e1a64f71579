"""ChatWorkersAI's LangChain `profile`, read from the shared model catalog (`cfai.catalog`).

Unknown model names get the catalog's cautious defaults rather than an error; users can pass `profile=` to override.
"""

from __future__ import annotations

from langchain_core.language_models import ModelProfile

from cfai.catalog import ModelInfo, get_model_info


def profile_from_model_info(info: ModelInfo) -> ModelProfile:
    images = "image" in info.input_modalities
    profile = ModelProfile(
        max_input_tokens=info.context_window,
        max_output_tokens=info.max_output_tokens,
        text_inputs="text" in info.input_modalities,
        image_inputs=images,
        image_url_inputs=images,
        pdf_inputs=False,
        audio_inputs=False,
        video_inputs=False,
        image_tool_message=False,
        pdf_tool_message=False,
        text_outputs=True,
        image_outputs=False,
        audio_outputs=False,
        video_outputs=False,
        reasoning_output=info.supports_reasoning,
        reasoning_effort_levels=list(info.reasoning_efforts),
        tool_calling=info.supports_tools,
        tool_choice=info.supports_tools,
        tool_call_streaming=info.supports_tools,
        structured_output=info.supports_structured_output,
        temperature=True,
    )
    if info.default_reasoning_effort:
        profile["reasoning_effort_default"] = info.default_reasoning_effort
    if "gpt-oss" in info.name:
        profile["open_weights"] = True
    return profile


def profile_for(model: str) -> ModelProfile:
    return profile_from_model_info(get_model_info(model))
