"""pytest plugin (placeholder while the emulator is being written)."""

from __future__ import annotations
