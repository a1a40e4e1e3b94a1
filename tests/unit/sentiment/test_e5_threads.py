"""Threads embed with e5 at the same time (two syncs side by side, API workers) and get exactly
what one thread alone gets: the engine keeps no state between calls."""

from __future__ import annotations

import threading

import numpy as np
from numpy.typing import NDArray

from service.sentiment.embedding_backend import EmbeddingHeadModel

TEXTS = [
    "Giao hàng chậm nhưng nhân viên rất nhiệt tình.",
    "送货很慢但是客服态度很好。",
    "Tarne oli aeglane, aga teenindus oli väga sõbralik.",
    "Delivery was slow, but the staff were very helpful.",
    "The invoice is wrong again and nobody answers the phone.",
    "Sản phẩm tốt, tôi sẽ mua lại.",
] * 6  # longer than one batch, so each thread makes several calls into the engine


def test_concurrent_embeddings_equal_one_thread_alone() -> None:
    model = EmbeddingHeadModel(batch_size=4)
    alone = model.embed(TEXTS)
    results: list[NDArray[np.float32] | None] = [None] * 4
    start = threading.Barrier(len(results))

    def embed(slot: int) -> None:
        start.wait()  # all threads enter the engine together
        results[slot] = model.embed(TEXTS)

    threads = [threading.Thread(target=embed, args=(i,)) for i in range(len(results))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        assert result is not None
        assert np.array_equal(result, alone)
