"""The clinic's SQLAlchemy models."""
from clinic.models.billing import Invoice, Payment, PaymentMethod
from clinic.models.visits import Patient, Visit, VisitKind

__all__ = [
    "Invoice",
    "Patient",
    "Payment",
    "PaymentMethod",
    "Visit",
    "VisitKind",
]
