"""Payment terminals: the till sends an amount, the customer presents a card,
the terminal answers approved or declined.

A payment is identified by the ``payment_id`` the till sends (its
idempotency key: the same id again is the same payment, never a second
charge). Its ``status`` starts ``pending`` and ends once as ``approved``,
``declined``, ``cancelled`` (by the till, while pending) or ``timeout`` (no
answer from the card within the terminal's ``timeout``).

:class:`PaymentTerminalDevice` keeps the payments and their deadlines; a
transport implements :meth:`begin` (hand the amount to the terminal) and
:meth:`abort` (stop it), and calls :meth:`settle` with the terminal's
answer. The ``virtual`` transport is a card terminal for development and
tests, like the virtual printer: it approves or declines after ``delay``
seconds, or waits for :meth:`simulate` (``outcome = "manual"``).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..config import PaymentTerminalConfig
from ..events import EventHub
from .base import Device

FINAL = ("approved", "declined", "cancelled", "timeout")
#: Payments kept for status requests: the newest ones, final ones for an hour.
KEEP = 1000
KEEP_SECONDS = 3600.0


class PaymentConflict(Exception):
    """The payment id was already used for a different payment."""


class PaymentBusy(Exception):
    """The terminal is taking another payment."""

    def __init__(self, payment: Payment) -> None:
        super().__init__(payment.payment_id)
        self.payment = payment


class PaymentFinal(Exception):
    """The payment already ended; it cannot change any more."""

    def __init__(self, payment: Payment) -> None:
        super().__init__(payment.status)
        self.payment = payment


@dataclass
class Payment:
    payment_id: str
    terminal: str
    amount: str
    currency: str
    reference: str
    deadline: float
    status: str = "pending"
    message: str = "present the card on the terminal"
    auth_code: str | None = None
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    #: when the virtual terminal answers by itself (monotonic), or None
    answer_at: float | None = None

    def public(self) -> dict[str, Any]:
        return {"payment_id": self.payment_id, "terminal": self.terminal,
                "amount": self.amount, "currency": self.currency,
                "reference": self.reference, "status": self.status,
                "message": self.message, "auth_code": self.auth_code,
                "created": self.created, "updated": self.updated}


class PaymentTerminalDevice(Device):
    kind = "payment_terminal"

    def __init__(self, cfg: PaymentTerminalConfig, hub: EventHub) -> None:
        super().__init__(cfg.name, cfg.transport, hub)
        self.cfg = cfg
        self._payments: dict[str, Payment] = {}
        self._lock = threading.RLock()
        self._status.update(timeout=cfg.timeout, pending=None, last_status=None)
        if cfg.transport == "virtual":
            self._status.update(outcome=cfg.outcome, delay=cfg.delay)

    @classmethod
    def is_usable(cls, transport: str) -> bool:
        return transport == "virtual"

    def start(self) -> None:
        if self.transport == "virtual":
            self.set_status(connected=True, error=None)
        super().start()

    # -- the till's requests (any thread) ------------------------------------------
    def request(self, payment_id: str, amount: str, currency: str,
                reference: str = "") -> tuple[Payment, bool]:
        """Start a payment; the same id and content again answer the same payment
        (``created`` False); the same id for other content raises PaymentConflict."""
        with self._lock:
            old = self._payments.get(payment_id)
            if old is not None:
                if (old.amount, old.currency, old.reference) != (amount, currency, reference):
                    raise PaymentConflict(payment_id)
                return old, False
            busy = self.pending()
            if busy is not None:
                raise PaymentBusy(busy)
            payment = Payment(payment_id, self.name, amount, currency, reference,
                              deadline=time.monotonic() + self.cfg.timeout)
            self._payments[payment_id] = payment
            self._purge()
            self.begin(payment)
        self._publish(payment)
        self.wake()
        return payment, True

    def get(self, payment_id: str) -> Payment | None:
        with self._lock:
            return self._payments.get(payment_id)

    def pending(self) -> Payment | None:
        with self._lock:
            return next((p for p in self._payments.values() if p.status == "pending"), None)

    def cancel(self, payment_id: str) -> Payment | None:
        """Cancel a pending payment; PaymentFinal when it already ended."""
        with self._lock:
            payment = self._payments.get(payment_id)
            if payment is None:
                return None
            if payment.status != "pending":
                raise PaymentFinal(payment)
            self.abort(payment)
            self._end(payment, "cancelled", "cancelled at the till")
        self._publish(payment)
        return payment

    def settle(self, payment_id: str, status: str, message: str,
               auth_code: str | None = None) -> Payment | None:
        """The terminal's answer for a pending payment (a transport calls it)."""
        with self._lock:
            payment = self._payments.get(payment_id)
            if payment is None:
                return None
            if payment.status != "pending":
                raise PaymentFinal(payment)
            payment.auth_code = auth_code
            self._end(payment, status, message)
        self._publish(payment)
        return payment

    # -- transport hooks ---------------------------------------------------------------
    def begin(self, payment: Payment) -> None:
        """Hand the payment to the terminal (called with the lock held)."""
        if self.cfg.outcome != "manual":
            payment.answer_at = time.monotonic() + self.cfg.delay

    def abort(self, payment: Payment) -> None:
        """Stop the payment on the terminal (called with the lock held)."""
        payment.answer_at = None

    def simulate(self, payment_id: str, outcome: str) -> Payment | None:
        """The virtual terminal: the customer's card is approved or declined now."""
        if outcome == "approved":
            return self.settle(payment_id, "approved", "approved (virtual terminal)",
                               auth_code=f"V{secrets.randbelow(10**6):06d}")
        return self.settle(payment_id, "declined", "declined by the card issuer "
                           "(virtual terminal)")

    # -- worker ------------------------------------------------------------------------
    def work(self) -> None:
        now = time.monotonic()
        due: list[tuple[str, str]] = []
        next_at = now + 1.0
        with self._lock:
            for p in self._payments.values():
                if p.status != "pending":
                    continue
                if p.answer_at is not None and p.answer_at <= now:
                    due.append((p.payment_id, "approved" if self.cfg.outcome == "approve"
                                else "declined"))
                elif p.deadline <= now:
                    due.append((p.payment_id, "timeout"))
                else:
                    next_at = min(next_at, p.deadline, p.answer_at or next_at)
        for payment_id, outcome in due:
            try:
                if outcome == "timeout":
                    self.settle(payment_id, "timeout", "no card presented in time")
                else:
                    self.simulate(payment_id, outcome)
            except PaymentFinal:
                pass
        self.wait(max(0.01, next_at - time.monotonic()))

    # -- helpers ---------------------------------------------------------------------
    def _end(self, payment: Payment, status: str, message: str) -> None:
        payment.status = status
        payment.message = message
        payment.updated = time.time()
        payment.answer_at = None

    def _publish(self, payment: Payment) -> None:
        self.set_status(pending=payment.payment_id if payment.status == "pending" else None,
                        last_status=payment.status)
        self.hub.publish({"type": "payment", **payment.public()})

    def _purge(self) -> None:
        old = time.time() - KEEP_SECONDS
        for key in [k for k, p in self._payments.items()
                    if p.status in FINAL and p.updated < old]:
            del self._payments[key]
        while len(self._payments) > KEEP:
            key = next(iter(self._payments))
            del self._payments[key]
