"""Invoices and payments, declared with classic ``Column``.

The billing tables predate the typed models. Their ``Column`` is the
project's own: NOT NULL unless a column says ``nullable=True``.
"""
import enum
import functools

import sqlalchemy as sa
from sqlalchemy.orm import relationship

from clinic.db import Base

Column = functools.partial(sa.Column, nullable=False)


class PaymentMethod(enum.Enum):
    CASH = "cash"
    CARD = "card"
    INSURANCE = "insurance"


class Invoice(Base):
    __tablename__ = "invoice"

    id = Column(sa.Integer, primary_key=True)
    visit_id = Column(sa.Integer, sa.ForeignKey("visit.id"))
    number = Column(sa.String(20), unique=True)
    issued_at = Column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    due_on = Column(sa.Date)
    total = Column(sa.Numeric(10, 2), default=0)
    lines = Column(sa.JSON, default=list)
    paid_at = Column(sa.DateTime(timezone=True), nullable=True)
    notes = Column(sa.Text, nullable=True)

    visit = relationship("Visit")
    payments = relationship("Payment", back_populates="invoice")


class Payment(Base):
    __tablename__ = "payment"

    id = Column(sa.Integer, primary_key=True)
    invoice_id = Column(sa.Integer, sa.ForeignKey("invoice.id"))
    received_at = Column(sa.DateTime(timezone=True))
    amount = Column(sa.Numeric(10, 2))
    method = Column(sa.Enum(PaymentMethod))
    # Plain sa.Column, not the project's: nullable as usual.
    reference = sa.Column(sa.String(40))

    invoice = relationship("Invoice", back_populates="payments")
