"""The console session's two timeouts, its signed cookie claims and its CSRF token."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain import console, sessions
from chalicelib.domain.console import ABSOLUTE_TIMEOUT, IDLE_TIMEOUT, ConsoleSession, SessionEnded
from chalicelib.domain.errors import Forbidden, Unauthenticated
from chalicelib.domain.keys import KeyRing
from chalicelib.domain.sessions import Purpose
from tests.fakes import FakeClock

KEYS = KeyRing(current=b"k" * 32, previous=b"p" * 32)


def test_the_idle_timeout_slides_with_each_request() -> None:
    clock = FakeClock()
    session = console.start("staff-1", "cl_00000000000000aa", clock.now())
    for _ in range(5):
        session = session.touched(clock.advance(seconds=IDLE_TIMEOUT.total_seconds() - 60))
    with pytest.raises(SessionEnded):
        session.touched(clock.advance(seconds=IDLE_TIMEOUT.total_seconds()))


def test_the_absolute_timeout_ends_even_a_busy_session() -> None:
    clock = FakeClock()
    session = console.start("staff-1", "cl_00000000000000aa", clock.now())
    started = clock.now()
    while clock.now() + timedelta(minutes=10) < started + ABSOLUTE_TIMEOUT:
        session = session.touched(clock.advance(minutes=10))
    assert session.expires_at == started + ABSOLUTE_TIMEOUT
    with pytest.raises(SessionEnded):
        session.touched(started + ABSOLUTE_TIMEOUT)


def test_the_cookie_round_trips_and_expires_with_the_session() -> None:
    clock = FakeClock()
    session = console.start("staff-1", "cl_00000000000000aa", clock.now()).touched(clock.advance(minutes=5))
    cookie = sessions.sign(Purpose.CONSOLE_SESSION, session.to_claims(), KEYS, session.expires_at)
    read = ConsoleSession.from_claims(sessions.verify(cookie, Purpose.CONSOLE_SESSION, KEYS, clock.now()))
    assert read == session
    with pytest.raises(Unauthenticated):
        sessions.verify(cookie, Purpose.CONSOLE_SESSION, KEYS, session.expires_at)
    with pytest.raises(Unauthenticated):  # a patient's or clinician's chat cookie is no console session
        sessions.verify(cookie, Purpose.CLINICIAN_SESSION, KEYS, clock.now())
    other = sessions.sign(Purpose.CONSOLE_SESSION, {"visit": "v"}, KEYS, session.expires_at)
    with pytest.raises(SessionEnded):
        ConsoleSession.from_claims(sessions.verify(other, Purpose.CONSOLE_SESSION, KEYS, clock.now()))


def test_the_csrf_token_is_the_sessions_own() -> None:
    clock = FakeClock()
    ours = console.start("staff-1", "cl_00000000000000aa", clock.now())
    theirs = console.start("staff-1", "cl_00000000000000aa", clock.now())  # the same member, another sign-in
    token = console.csrf_token(ours, KEYS)
    console.check_csrf(token, ours, KEYS)
    console.check_csrf(token, ours.touched(clock.advance(minutes=1)), KEYS)  # stable for the whole session
    for bad in (console.csrf_token(theirs, KEYS), "", token[:-1], "é" + token):
        with pytest.raises(Forbidden):
            console.check_csrf(bad, ours, KEYS)
    # After a rotation of the key, a form loaded before it still posts.
    console.check_csrf(token, ours, KeyRing(current=b"n" * 32, previous=KEYS.current))
