import pytest


@pytest.fixture(scope="session")
def nlp():
    from pipeline.extraction import load_nlp

    return load_nlp()
