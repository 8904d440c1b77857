"""The rules, one module each, in code order. A rule module defines ``CODE``,
``NAME``, ``NODE_TYPES`` and ``check(node, scope, checker)``."""
from flake8_dbconstraints.rules import (
    annotation_disagrees_with_nullable,
    json_column_mutated_in_place,
    model_disagrees_with_database,
    none_comparison_on_not_null_column,
    truthiness_test_on_not_null_column,
)

ALL_RULES = (
    truthiness_test_on_not_null_column,
    none_comparison_on_not_null_column,
    json_column_mutated_in_place,
    annotation_disagrees_with_nullable,
    model_disagrees_with_database,
)
