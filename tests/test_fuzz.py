"""Property test: sources built around model classes and guards, then truncated, with
bytes flipped, nested deeply or made cyclic, run through flake8's own API. Whatever the
input, flake8 must finish with a valid report and no plugin failure.

The default run is short for CI; set DBC_FUZZ_EXAMPLES=2000 for a long one.
"""
import os
import re

from flake8.api import legacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flake8_dbconstraints.project import clear_caches

EXAMPLES = int(os.environ.get("DBC_FUZZ_EXAMPLES", "20"))
STATISTIC = re.compile(r"^\d+ +(DBC10[01]|DBC200|E999) +\S")

MODEL_PARTS = [
    "import datetime\nimport functools\nfrom typing import Optional\n",
    "import sqlalchemy as sa\nfrom sqlalchemy import Column, DateTime, JSON, String\n",
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship\n",
    "from app.models import *\nfrom .models import Base as Base\n",
    "class Base(DeclarativeBase):\n    type_annotation_map = {dict: JSON}\n",
    "Column = functools.partial(Column, nullable=False)\n",
    "class Visit(Base):\n    __tablename__ = 'visit'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
    "    started_at: Mapped[datetime.datetime]\n    note: Mapped[Optional[str]]\n    extra: Mapped[dict]\n"
    "    other = relationship('Visit')\n",
    "class Mixin:\n    made = Column(DateTime, nullable=False)\n",
    "class Other(Mixin, Visit):\n    __tablename__ = None\n",
    "class Loop(Loop):\n    pass\n",
]
SERVICE_PARTS = [
    "from app.models import Visit, Other\nfrom sqlalchemy import select\n",
    "def f(visit: Visit, session):\n    if visit.started_at is None:\n        return 1\n",
    "def g(session):\n    v = session.scalars(select(Visit)).one()\n    return v.started_at or 2\n",
    "def h(visit: 'Visit'):\n    visit.extra['k'] = 1\n    d = dict(visit.extra)\n    d['a']['b'] = 2\n",
    "def i(o: Other):\n    return [x for x in o.other if not x.made]\n",
    "class Visit2(Visit):\n    def m(self):\n        return self.started_at if self.started_at else None\n",
    "async def j(session):\n    async for v in session.stream_scalars(select(Visit)):\n        v.extra.update(k=1)\n",
]


def mutate(text: str, data) -> str:
    choice = data.draw(st.sampled_from(["keep", "truncate", "flip", "nest", "repeat"]))
    if choice == "truncate" and text:
        return text[: data.draw(st.integers(0, len(text)))]
    if choice == "flip" and text:
        raw = bytearray(text.encode())
        for _ in range(data.draw(st.integers(1, 8))):
            position = data.draw(st.integers(0, len(raw) - 1))
            raw[position] = data.draw(st.integers(0, 255))
        return raw.decode("utf-8", "replace")
    if choice == "nest":
        depth = data.draw(st.integers(1, 60))
        return "def outer():\n" + "".join(
            "    " * (level + 1) + "if x:\n" for level in range(depth)
        ) + "    " * (depth + 1) + "y = (" * 1 + "visit.started_at is None)\n" + text
    if choice == "repeat":
        return text * data.draw(st.integers(2, 5))
    return text


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_flake8_survives_any_project(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("fuzz")
    models = "".join(data.draw(st.lists(st.sampled_from(MODEL_PARTS), min_size=1, max_size=8)))
    service = "".join(data.draw(st.lists(st.sampled_from(SERVICE_PARTS), min_size=1, max_size=6)))
    files = {
        "app/__init__.py": "",
        "app/models.py": mutate(models, data),
        "app/services.py": mutate(service, data),
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    cwd = os.getcwd()
    os.chdir(root)
    clear_caches()
    try:
        guide = legacy.get_style_guide(select=["DBC", "E999"], dbc_no_cache=True)
        report = guide.check_files(["app"])
    finally:
        os.chdir(cwd)
        clear_caches()
    statistics = [line for code in ("DBC", "E999") for line in report.get_statistics(code)]
    assert sum(int(line.split()[0]) for line in statistics) == report.total_errors
    assert all(STATISTIC.match(line) for line in statistics), statistics
