"""The one table of codes: code -> rule name, message template, status, doc page.

Codes are stable: a retired code is never reused (it gets an alias instead), and new
codes wait for a minor release. Tests compare codes and positions; only one test per
code pins the full wording below.
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Code:
    code: str
    name: str
    template: str
    status: str = "stable"

    @property
    def doc_page(self) -> str:
        return f"docs/rules/{self.code}.md"

    def format(self, **fields: str) -> str:
        return f"{self.code} " + self.template.format(**fields)


TRUTHINESS_TEST_ON_NOT_NULL_COLUMN = Code(
    "DBC100",
    "truthiness-test-on-not-null-column",
    "'{expr}' is always {value}: {model}.{attr} is a NOT NULL {type} "
    "(declared at {declared_at}), so {consequence}",
)
NONE_COMPARISON_ON_NOT_NULL_COLUMN = Code(
    "DBC101",
    "none-comparison-on-not-null-column",
    "'{expr}' is always {value}: {model}.{attr} is NOT NULL "
    "({type}, declared at {declared_at}){also}, so it never reads None for a stored row{also_object}",
)
JSON_COLUMN_MUTATED_IN_PLACE = Code(
    "DBC200",
    "json-column-mutated-in-place",
    "{change} to {model}.{attr} is not saved{condition}: {reason} (declared at {declared_at}) "
    "and SQLAlchemy does not track {untracked}; call flag_modified({receiver}, \"{attr}\") "
    "after it, {remedy}",
)

ANNOTATION_DISAGREES_WITH_NULLABLE = Code(
    "DBC300",
    "annotation-disagrees-with-nullable",
    "{model}.{attr} is annotated {annotation} but declared nullable={nullable}: {consequence}",
)

MODEL_NOT_NULL_BUT_DATABASE_NULLABLE = Code(
    "DBC301",
    "model-not-null-but-database-nullable",
    "{model}.{attr} is declared NOT NULL but the column {column} in the database allows NULL",
)
MODEL_MISSING_FROM_DATABASE = Code(
    "DBC302",
    "model-missing-from-database",
    "{subject} maps {target}, which the database does not have",
)

ALL_CODES = (
    TRUTHINESS_TEST_ON_NOT_NULL_COLUMN,
    NONE_COMPARISON_ON_NOT_NULL_COLUMN,
    JSON_COLUMN_MUTATED_IN_PLACE,
    ANNOTATION_DISAGREES_WITH_NULLABLE,
    MODEL_NOT_NULL_BUT_DATABASE_NULLABLE,
    MODEL_MISSING_FROM_DATABASE,
)
BY_CODE = {code.code: code for code in ALL_CODES}

# Why a truthiness test is dead, by where the always-truthy value sits.
CONSEQUENCE_IF = "the else branch never runs for a stored row"
CONSEQUENCE_WHILE = "the loop never stops on this test for a stored row"
CONSEQUENCE_NOT = "it is never falsy for a stored row"
CONSEQUENCE_TERNARY = "the else value is never used for a stored row"
CONSEQUENCE_FILTER = "the filter never drops an item for a stored row"
CONSEQUENCE_OR = "the operands after it are never evaluated for a stored row"
CONSEQUENCE_GUARD = "the case guard never fails for a stored row"

# Why an annotation that disagrees with the column misleads.
CONSEQUENCE_NEVER_NONE = "type checkers will assume it is never None"
CONSEQUENCE_MAYBE_NONE = "type checkers will demand None checks for a value that is never None"
