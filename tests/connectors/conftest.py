"""Connector fixtures: the shared evaluation feed captures."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def feeds_dir(shared_data):
    return shared_data / "feeds"
