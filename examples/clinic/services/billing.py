"""Invoices for visits, and the payments against them."""
import datetime
import decimal
from typing import List

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from clinic.models import Invoice, Payment, PaymentMethod, Visit


def issue_invoice(
    session: Session, visit: Visit, number: str, fee: decimal.Decimal
) -> Invoice:
    invoice = Invoice(
        visit=visit,
        number=number,
        due_on=datetime.date.today() + datetime.timedelta(days=30),
        total=fee,
        lines=[],
    )
    # A pending object: its whole value is written at the first flush.
    invoice.lines.append({"item": visit.kind.value, "amount": str(fee)})
    session.add(invoice)
    return invoice


def add_line(invoice: Invoice, item: str, amount: decimal.Decimal) -> None:
    invoice.lines.append({"item": item, "amount": str(amount)})
    invoice.total += amount


def add_discount(invoice: Invoice, amount: decimal.Decimal) -> None:
    invoice.lines.append({"item": "discount", "amount": str(-amount)})
    flag_modified(invoice, "lines")
    invoice.total -= amount


def record_payment(session: Session, invoice_id: int, payment: Payment):
    invoice = session.get(Invoice, invoice_id)
    if invoice.issued_at is None:
        raise ValueError("a draft invoice cannot be paid")
    if invoice.paid_at is not None:
        return invoice
    invoice.payments.append(payment)
    if sum(p.amount for p in invoice.payments) >= invoice.total:
        invoice.paid_at = payment.received_at
    session.commit()
    return invoice


def describe_payment(payment: Payment) -> str:
    method = payment.method or PaymentMethod.CASH
    reference = payment.reference or "no reference"
    if not payment.amount:
        return f"{method.value}: nothing paid ({reference})"
    return f"{method.value}: {payment.amount} ({reference})"


def overdue(session: Session, today: datetime.date) -> List[Invoice]:
    unpaid = session.scalars(
        select(Invoice).where(Invoice.paid_at.is_(None))
    ).all()
    return [invoice for invoice in unpaid if invoice.due_on < today]


def clean_lines(invoice: Invoice) -> None:
    # A new list, then an assignment: SQLAlchemy sees the change.
    invoice.lines = [line for line in invoice.lines if line.get("amount")]
