"""The model-call cache: batched lookups, idempotent puts, usage totals, the credential guard, threads."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from inward.store import CallRow, Store, find_secret
from inward.store._store import LOOKUP_CHUNK


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path) as s:
        yield s


def call(key: str, model: str = "openai/gpt-4o-mini", **kw: Any) -> CallRow:
    base: dict[str, Any] = dict(
        key=key,
        model=model,
        request={"messages": [{"role": "user", "content": f"q {key}"}], "temperature": 0},
        response={"choices": [{"text": f"a {key}", "logprobs": None}]},
        prompt_tokens=10,
        completion_tokens=2,
        cost_usd=0.001,
    )
    base.update(kw)
    return CallRow(**base)


def test_put_get_round_trip_and_idempotent(store: Store) -> None:
    assert store.put_calls([call("k1"), call("k2")]) == 2
    assert store.put_calls([call("k1"), call("k2", response={"other": 1}), call("k3")]) == 1
    got = store.get_calls(["k1", "k2", "missing", "k1"])
    assert set(got) == {"k1", "k2"}
    assert got["k2"]["response"] == {"choices": [{"text": "a k2", "logprobs": None}]}
    assert got["k1"]["request"]["messages"][0]["content"] == "q k1"
    assert got["k1"]["cost_usd"] == 0.001 and got["k1"]["model"] == "openai/gpt-4o-mini"


def test_lookup_more_keys_than_one_query_holds(store: Store) -> None:
    n = 2 * LOOKUP_CHUNK + 7
    store.put_calls([call(f"k{i}") for i in range(n)])
    keys = [f"k{i}" for i in range(0, n + 50)]
    got = store.get_calls(keys)
    assert len(got) == n
    assert got[f"k{n - 1}"]["response"]["choices"][0]["text"] == f"a k{n - 1}"


def test_usage_totals(store: Store) -> None:
    assert store.usage() == {
        "calls": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost_usd": 0.0,
        "calls_without_cost": 0,
    }
    store.put_calls([call("a"), call("b", completion_tokens=5), call("c", model="local/m1", cost_usd=None)])
    total = store.usage()
    assert total["calls"] == 3 and total["prompt_tokens"] == 30 and total["completion_tokens"] == 9
    assert total["cost_usd"] == pytest.approx(0.002) and total["calls_without_cost"] == 1
    local = store.usage("local/m1")
    assert local["calls"] == 1 and local["cost_usd"] == 0.0 and local["calls_without_cost"] == 1


@pytest.mark.parametrize(
    "request_json",
    [
        {"api_key": "sk-1", "messages": []},
        {"headers": {"Authorization": "Bearer sk-1"}},
        {"extra_headers": {"x-api-key": "abc"}},
        {"clients": [{"OPENAI_API_KEY": "sk"}]},
    ],
)
def test_credentials_are_refused(store: Store, request_json: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="credential"):
        store.put_calls([call("ok"), call("bad", request=request_json)])
    assert store.get_calls(["ok", "bad"]) == {}  # nothing of the batch was written


def test_credential_guard_ignores_ordinary_keys() -> None:
    assert find_secret({"max_tokens": 5, "messages": [{"role": "user", "content": "api_key"}]}) is None
    assert find_secret({"n": [{"authorization": "x"}]}) == "request.n[0].authorization"


def test_threads_share_a_store_without_duplicates(store: Store) -> None:
    # 8 threads, overlapping keys: each thread writes keys 0..199 in batches, inside its own transactions.
    def work(t: int) -> int:
        added = 0
        for start in range(0, 200, 25):
            with store.transaction():
                added += store.put_calls([call(f"k{i}") for i in range(start, start + 25)])
                assert len(store.get_calls([f"k{start}"])) == 1  # a thread reads its own uncommitted writes
        return added

    with ThreadPoolExecutor(max_workers=8) as pool:
        added = list(pool.map(work, range(8)))
    assert sum(added) == 200
    assert store.usage()["calls"] == 200
    # The pool's threads are gone, and with them their connections: only this thread's remains open.
    gc.collect()
    assert sum(c.alive for c in store._closers) == 1
