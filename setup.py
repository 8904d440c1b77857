"""Packaging for flake8-dbconstraints."""
import pathlib
import re

from setuptools import find_packages, setup

HERE = pathlib.Path(__file__).parent
VERSION = re.search(
    r'__version__ = "([^"]+)"',
    (HERE / "flake8_dbconstraints" / "__init__.py").read_text(encoding="utf-8"),
).group(1)

setup(
    name="flake8-dbconstraints",
    version=VERSION,
    description=(
        "flake8 plugin that reads SQLAlchemy models and reports guards made dead "
        "by NOT NULL columns and JSON changes SQLAlchemy never saves"
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    author="flake8-dbconstraints developers",
    license="MIT",
    packages=find_packages(include=["flake8_dbconstraints", "flake8_dbconstraints.*"]),
    python_requires=">=3.9",
    install_requires=[
        "flake8>=5",
        "sqlalchemy>=1.4",
        "astroid>=3",
    ],
    entry_points={
        "flake8.extension": [
            "DBC = flake8_dbconstraints.plugin:DBConstraintsChecker",
        ],
    },
    classifiers=[
        "Development Status :: 4 - Beta",
        "Environment :: Console",
        "Framework :: Flake8",
        "Intended Audience :: Developers",
        "License :: OSI Approved :: MIT License",
        "Operating System :: OS Independent",
        "Programming Language :: Python",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Topic :: Database",
        "Topic :: Software Development :: Quality Assurance",
    ],
)
