"""Conformance harness: both adapters against third-party Responses servers (`python -m conformance`).

Modules: `processes` (child servers on loopback: start, wait, stop), `gpt_oss_server` and `harmony_script` (OpenAI's
reference gpt-oss server with a scripted token source), `litellm_server` (LiteLLM's proxy over the emulator),
`emulator_server` (the control), `adapters` (driving `ChatWorkersAI` and `WorkersAI`), `scenarios` (what is run and
checked), `runner` (the matrix), `recording` (tee transports), `fixtures` (captures into `tests/fixtures/`),
`report` (the table). See README.md.

This package imports nothing on import: `harmony_script` runs in the gpt-oss server's own environment, which has
none of the project's dependencies.
"""
