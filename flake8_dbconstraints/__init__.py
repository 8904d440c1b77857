"""flake8-dbconstraints: guards and writes that a database constraint makes dead or lost.

Importing the package must stay cheap: flake8 imports every plugin on every run,
even for ``--version``, so astroid and SQLAlchemy are imported only where ``run()``
reaches them.
"""

__version__ = "0.1.0"
