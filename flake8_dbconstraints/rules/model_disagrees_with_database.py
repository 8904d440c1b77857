"""DBC301 model-not-null-but-database-nullable and DBC302 model-missing-from-database.

What they do: with ``--dbc-database-url``, compare each model declared in the checked
file with the live database: a NOT NULL model column over a database column that
allows NULL (a migration that never ran: DBC301), and a model table or column the
database does not have (DBC302). Reported at the model's declarations.

Why it matters: the model is a claim, the database the truth. A NOT NULL model
column over a nullable database column loads None, which makes a branch this plugin
would call dead live again; with a database given, DBC100 and DBC101 are therefore
reported only where the database agrees.

Silent without a database URL, when the database could not be read, for models
whose table name cannot be told statically, and on primary keys for DBC301.
"""
from __future__ import annotations

import ast
from typing import Iterator

from flake8_dbconstraints import codes
from flake8_dbconstraints.checker import Finding
from flake8_dbconstraints.names import ClassRef

CODE = codes.MODEL_NOT_NULL_BUT_DATABASE_NULLABLE
MISSING = codes.MODEL_MISSING_FROM_DATABASE
NAME = CODE.name
NODE_TYPES = (ast.ClassDef,)


def check(node: ast.ClassDef, scope, checker) -> Iterator[Finding]:
    schema = checker.database
    if schema is None:
        return
    module = checker.file_models.module
    model = checker.file_models.registry.model_for_class(ClassRef(module, node))
    if model is None or model.table is None:
        return
    table = schema.table(model.table, model.schema)
    qualified = schema.qualified(model.table, model.schema)
    if table is None:
        yield Finding(node.lineno, node.col_offset,
                      MISSING.format(subject=model.name, target=f"the table {qualified}"))
        return
    end = node.end_lineno or node.lineno
    for column in model.columns.values():
        if column.path != module.path or not node.lineno <= column.line <= end:
            continue  # reported where it is declared
        where = f"{qualified}.{column.db_name}"
        if column.db_name not in table:
            subject = f"{model.name}.{column.key}"
            yield Finding(column.line, column.col, MISSING.format(subject=subject, target=f"the column {where}"))
        elif column.not_null and not column.primary_key and table[column.db_name]:
            # Primary keys are skipped: SQLite reflects INTEGER PRIMARY KEY as nullable,
            # yet a NULL there is replaced by the next row id.
            yield Finding(column.line, column.col, CODE.format(model=model.name, attr=column.key, column=where))
