"""``hub serve`` sends a response's head with its body's first write (``hub.api.serving.HeadWithBody``):
one write where uvicorn made two, a head with no body in the same turn (a HEAD answer, a stream not
ready) still sent at the end of that turn, a ``100 Continue`` sent at once, a large body not copied."""
import asyncio

from hub.api.serving import JOIN_BYTES, HeadWithBody


class Transport:
    def __init__(self) -> None:
        self.writes: list[tuple[bytes, ...]] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append((data,))

    def writelines(self, pieces) -> None:  # noqa: ANN001
        self.writes.append(tuple(pieces))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


class Cycle:
    response_started = False
    response_complete = False


def wrapped(loop):  # noqa: ANN001, ANN201
    transport, cycle = Transport(), Cycle()
    return transport, cycle, HeadWithBody(transport, cycle, loop)


def test_the_head_leaves_with_the_first_body_write_and_later_writes_as_they_come():
    async def main():
        transport, cycle, held = wrapped(asyncio.get_running_loop())
        held.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # before the response starts: at once
        assert transport.writes == [(b"HTTP/1.1 100 Continue\r\n\r\n",)]
        cycle.response_started = True
        held.write(b"HTTP/1.1 202 Accepted\r\n\r\n")
        assert len(transport.writes) == 1  # the head waits for the body
        held.write(b'{"id": "1"}')
        held.write(b"more")
        await asyncio.sleep(0)  # the end-of-turn flush finds nothing left
        return transport.writes
    assert asyncio.run(main())[1:] == [(b"HTTP/1.1 202 Accepted\r\n\r\n", b'{"id": "1"}'), (b"more",)]


def test_a_head_without_a_body_in_the_same_turn_is_sent_at_its_end():
    async def main():
        transport, cycle, held = wrapped(asyncio.get_running_loop())
        cycle.response_started = True
        held.write(b"HTTP/1.1 200 OK\r\n\r\n")
        assert transport.writes == []
        await asyncio.sleep(0)
        assert transport.writes == [(b"HTTP/1.1 200 OK\r\n\r\n",)]
        held.write(b"first piece")  # a later piece of a stream goes as it is
        return transport.writes
    assert asyncio.run(main())[-1] == (b"first piece",)


def test_a_large_body_is_written_after_the_head_not_joined_to_it():
    async def main():
        transport, cycle, held = wrapped(asyncio.get_running_loop())
        cycle.response_started = True
        held.write(b"head")
        body = b"x" * (JOIN_BYTES + 1)
        held.write(body)
        return transport.writes, body
    writes, body = asyncio.run(main())
    assert writes == [(b"head",), (body,)]


def test_closing_sends_a_held_head_first_and_the_rest_is_the_transports():
    async def main():
        transport, cycle, held = wrapped(asyncio.get_running_loop())
        cycle.response_started = True
        held.write(b"head")
        held.close()
        assert transport.writes == [(b"head",)] and transport.closed and held.is_closing()
        await asyncio.sleep(0)  # the end-of-turn flush does not send it twice
        assert transport.writes == [(b"head",)]
        assert held.get_extra_info("peername") == "info:peername"
    asyncio.run(main())
