"""The body's deadline (``hub.api.body_limits.body_deadline``): a read that must wait is cut
with 408 at the deadline; one answered at once, or within the deadline, passes its message on;
a body over its limit is 413; errors and cancellation reach the caller as they would unwrapped."""
import asyncio

import pytest
from starlette.exceptions import HTTPException

from hub.api.body_limits import body_deadline, within

BODY = {"type": "http.request", "body": b'{"a": 1}', "more_body": False}


def run(coro):  # noqa: ANN001, ANN201
    return asyncio.run(coro)


def test_a_body_already_there_is_passed_on():
    async def ready():
        return BODY

    async def main():
        return await body_deadline({}, ready, 5.0)()
    assert run(main()) == BODY


def test_a_body_that_arrives_in_time_is_passed_on_after_waiting():
    async def main():
        arrived: asyncio.Queue = asyncio.Queue()

        async def receive():
            return await arrived.get()
        asyncio.get_running_loop().call_later(0.01, arrived.put_nowait, BODY)
        return await body_deadline({}, receive, 5.0)()
    assert run(main()) == BODY


def test_a_body_that_does_not_arrive_is_cut_with_408_and_the_read_is_cancelled():
    cancelled = []

    async def never():
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main():
        await body_deadline({}, never, 0.05)()
    with pytest.raises(HTTPException) as refused:
        run(main())
    assert refused.value.status_code == 408 and refused.value.headers == {"Connection": "close"}
    assert cancelled == [True]


def test_a_body_over_its_limit_is_413():
    async def main():
        async def big():
            return {"type": "http.request", "body": b"x" * 11, "more_body": False}
        await body_deadline({}, big, 5.0, limit=10)()
    with pytest.raises(HTTPException) as refused:
        run(main())
    assert refused.value.status_code == 413


def test_a_waiting_read_gets_what_it_waited_for_and_its_errors_reach_the_caller():
    async def main():
        loop = asyncio.get_running_loop()
        first, second = loop.create_future(), loop.create_future()

        async def two_waits():
            got = await first
            try:
                await second
            except ValueError as exc:
                return {"type": "http.request", "body": got + str(exc).encode(), "more_body": False}
        loop.call_later(0.01, first.set_result, b"one ")
        loop.call_later(0.02, second.set_exception, ValueError("two"))
        message = await within(two_waits(), 5.0)

        async def fails():
            await asyncio.sleep(0)
            raise KeyError("lost")
        with pytest.raises(KeyError):
            await within(fails(), 5.0)
        return message
    assert run(main())["body"] == b"one two"


def test_cancelling_the_request_cancels_a_waiting_read():
    async def main():
        started = asyncio.Event()

        async def receive():
            started.set()
            await asyncio.Event().wait()
        task = asyncio.ensure_future(within(receive(), 5.0))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    run(main())
