"""The flake8 entry point: options in, findings out. Rule logic lives in ``rules/``."""
from __future__ import annotations

import ast
from typing import Any, Iterator, Optional

from flake8_dbconstraints import __version__
from flake8_dbconstraints.settings import DEFAULT_CACHE_DIR, Settings, SettingsError, build_settings


class DBConstraintsChecker:
    name = "flake8-dbconstraints"
    version = __version__
    settings: Settings = Settings()

    def __init__(self, tree: ast.AST, filename: str = "stdin", lines: Optional[list] = None) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines if lines is not None else []

    @classmethod
    def add_options(cls, option_manager: Any) -> None:
        option_manager.add_option(
            "--dbc-model-paths",
            default="",
            parse_from_config=True,
            comma_separated_list=True,
            normalize_paths=True,
            help="Directories from which model modules are imported when they live "
            "outside the checked paths (comma-separated). (Default: %(default)s)",
        )
        option_manager.add_option(
            "--dbc-truthy-types",
            default="",
            parse_from_config=True,
            comma_separated_list=True,
            help="Dotted names of extra column types whose values are never falsy, "
            "e.g. sqlalchemy_utils.ArrowType. (Default: %(default)s)",
        )
        option_manager.add_option(
            "--dbc-json-types",
            default="",
            parse_from_config=True,
            comma_separated_list=True,
            help="Dotted names of extra column types that hold mutable JSON-like values "
            "SQLAlchemy does not track in place. (Default: %(default)s)",
        )
        option_manager.add_option(
            "--dbc-cache-dir",
            default=DEFAULT_CACHE_DIR,
            parse_from_config=True,
            normalize_paths=True,
            help="Where the model index is cached between runs. (Default: %(default)s)",
        )
        option_manager.add_option(
            "--dbc-database-url",
            default="",
            parse_from_config=True,
            help="Opt-in: a SQLAlchemy URL of a database whose schema the models are checked "
            "against (also from the DBC_DATABASE_URL environment variable). (Default: none)",
        )
        option_manager.add_option(
            "--dbc-no-cache",
            default=False,
            action="store_true",
            parse_from_config=True,
            help="Do not read or write the model index cache. (Default: %(default)s)",
        )

    @classmethod
    def parse_options(cls, option_manager: Any, options: Any = None, args: Any = None) -> None:
        try:
            cls.settings = build_settings(
                model_paths=options.dbc_model_paths,
                truthy_types=options.dbc_truthy_types,
                json_types=options.dbc_json_types,
                cache_dir=options.dbc_cache_dir,
                no_cache=options.dbc_no_cache,
                database_url=options.dbc_database_url,
            )
        except SettingsError as exc:
            option_manager.parser.error(str(exc))
        if cls.settings.database_url:
            from flake8_dbconstraints.database import reflect

            reflect(cls.settings.database_url)  # once, before flake8 forks its workers

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        from flake8_dbconstraints.safety import guarded

        findings: list = []
        with guarded(f"file {self.filename}"):
            findings = self._findings()
        for line, col, message in findings:
            yield line, col, message, type(self)

    def _findings(self) -> list:
        from flake8_dbconstraints.project import cache_for, loader_for, registry_for, roots_for

        roots = roots_for(self.filename, self.settings)
        source = "".join(self.lines)
        cache = cache_for(self.settings)
        if cache is not None:
            cached = cache.load(self.filename, source, loader_for(roots))
            if cached is not None:
                return cached
        from flake8_dbconstraints.checker import FileChecker
        from flake8_dbconstraints.file_models import FileModels
        from flake8_dbconstraints.rules import ALL_RULES

        registry = registry_for(roots, self.settings)
        with registry.loader.recording() as consulted:
            file_models = FileModels(registry, self.filename, self.tree, source)
            checker = FileChecker(self.tree, file_models, list(ALL_RULES), source, self.settings)
            try:
                findings = [(finding.line, finding.col, finding.message) for finding in checker.run()]
            finally:
                registry.forget_transient()
        if cache is not None:
            cache.store(self.filename, source, findings, consulted)
        return findings
