"""Launch flake8 with or without flake8-dbconstraints, in the same environment.

    python benchmarks/_flake8_without_plugin.py --without-plugin [flake8 args...]
    python benchmarks/_flake8_without_plugin.py --with-plugin [flake8 args...]

``--without-plugin`` (the default) wraps ``flake8.plugins.finder.find_plugins`` so that
plugins from the distribution ``flake8-dbconstraints`` are dropped before flake8 loads
them: the plugin is never imported, registers no options and checks nothing.
``--with-plugin`` leaves flake8 untouched; it goes through this launcher only so that
both arms of the benchmark start the same way.

``flake8 --version`` shows which plugins were loaded, so ``run.py`` checks the filter
with it before measuring anything. If flake8's finder ever lacks ``find_plugins``, the
launcher exits with status 3 instead of silently running the plugin.

The choice is kept in the environment (DBC_BENCH_WITH_PLUGIN) as well, because
multiprocessing workers started by ``spawn`` or ``forkserver`` (the default from Python
3.14 on) re-import this file as ``__mp_main__`` and parse flake8's options again; with
``fork`` they inherit the patched finder.
"""

from __future__ import annotations

import os
import re
import sys

DISTRIBUTION = "flake8-dbconstraints"
ENV = "DBC_BENCH_WITH_PLUGIN"


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def install_filter() -> None:
    """Drop our distribution's plugins from what flake8's finder returns (idempotent)."""
    from flake8.plugins import finder

    original = getattr(finder, "find_plugins", None)
    if original is None:
        sys.stderr.write(
            "_flake8_without_plugin: flake8.plugins.finder.find_plugins is gone; cannot filter\n"
        )
        sys.exit(3)
    if getattr(original, "_dbc_bench_filtered", False):
        return

    def find_plugins(*args, **kwargs):
        return [p for p in original(*args, **kwargs) if _normalize(p.package) != DISTRIBUTION]

    find_plugins._dbc_bench_filtered = True  # type: ignore[attr-defined]
    find_plugins.__wrapped__ = original  # type: ignore[attr-defined]
    finder.find_plugins = find_plugins


def main(argv: list[str]) -> int:
    with_plugin = False
    if argv and argv[0] in ("--with-plugin", "--without-plugin"):
        with_plugin = argv.pop(0) == "--with-plugin"
    os.environ[ENV] = "1" if with_plugin else "0"
    if not with_plugin:
        install_filter()
    from flake8.main.cli import main as flake8_main

    return flake8_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
elif __name__ == "__mp_main__" and os.environ.get(ENV) == "0":
    install_filter()  # a spawned flake8 worker: filter again before it re-parses options
