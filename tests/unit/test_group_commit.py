"""Group commit: a lingering writer gathers items that arrive while more are announced, and
does not hold a lone item back when nothing more is coming."""
import threading

from hub.group_commit import GroupCommitter


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        return [i * 10 for i in items]


def test_lingers_while_more_items_are_announced() -> None:
    recorder = Recorder()
    asked = threading.Event()
    more_coming = threading.Event()
    more_coming.set()

    def coming() -> bool:
        asked.set()
        return more_coming.is_set()

    committer = GroupCommitter(recorder, name="test-linger", linger_seconds=30.0, linger_while=coming)
    try:
        first = committer.submit_async(1)
        assert asked.wait(10), "the writer never asked whether more items were coming"
        assert not first.done()  # still lingering for the announced items
        second, third = committer.submit_async(2), committer.submit_async(3)
        more_coming.clear()
        assert [f.result(timeout=10) for f in (first, second, third)] == [10, 20, 30]
        assert recorder.batches == [[1, 2, 3]]
    finally:
        committer.close()


def test_a_lone_item_is_not_held_back() -> None:
    recorder = Recorder()
    committer = GroupCommitter(recorder, name="test-lone", linger_seconds=30.0, linger_while=lambda: False)
    try:
        assert committer.submit_async(7).result(timeout=10) == 70
        assert committer.submit_async(8).result(timeout=10) == 80
        assert recorder.batches == [[7], [8]]
    finally:
        committer.close()


def test_without_a_condition_there_is_no_linger() -> None:
    recorder = Recorder()
    committer = GroupCommitter(recorder, name="test-plain", linger_seconds=30.0)
    try:
        assert committer.submit_async(1).result(timeout=10) == 10
    finally:
        committer.close()


def test_close_while_lingering_commits_what_was_gathered() -> None:
    recorder = Recorder()
    asked = threading.Event()

    def coming() -> bool:
        asked.set()
        return True

    committer = GroupCommitter(recorder, name="test-close", linger_seconds=30.0, linger_while=coming)
    first = committer.submit_async(1)
    assert asked.wait(10)
    committer.close()
    assert first.result(timeout=10) == 10
    assert recorder.batches == [[1]]


def test_a_callback_gets_its_own_items_result_or_error_and_a_failing_one_spares_the_rest() -> None:
    """``submit_callback``: the outcome of each item reaches its own callback, a per-item error as
    the exception and a whole-batch failure as that batch's error, as ``submit_async``'s futures do;
    a callback that raises does not keep the writer from answering the others."""
    gate, held = threading.Event(), threading.Event()

    def process(items: list[int]) -> list[int | BaseException]:
        if items == [0]:  # the first batch waits, so the next items gather into one batch
            held.set()
            assert gate.wait(10)
            return [0]
        if 99 in items:
            raise RuntimeError("the whole batch failed")
        return [ValueError(f"item {i} refused") if i < 0 else i * 10 for i in items]

    outcomes: dict[int, object] = {}
    answered = threading.Semaphore(0)

    def note(key: int):  # noqa: ANN202
        def done(outcome: object) -> None:
            outcomes[key] = outcome
            answered.release()
            if key == 1:
                raise RuntimeError("a caller's callback failed")
        return done

    committer = GroupCommitter(process, name="test-callback")
    try:
        committer.submit_callback(0, note(0))
        assert held.wait(10)
        for item in (1, -2, 3):
            committer.submit_callback(item, note(item))
        gate.set()
        for _ in range(4):
            assert answered.acquire(timeout=10)
        assert outcomes[0] == 0 and outcomes[1] == 10 and outcomes[3] == 30
        assert isinstance(outcomes[-2], ValueError)
        committer.submit_callback(99, note(99))  # the writer still runs after the raising callback
        assert answered.acquire(timeout=10)
        assert isinstance(outcomes[99], RuntimeError) and str(outcomes[99]) == "the whole batch failed"
    finally:
        committer.close()
