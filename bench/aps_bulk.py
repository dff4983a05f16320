"""APScheduler's SQLAlchemy job store, loadable in bulk: the on-disk baseline of bench/scheduler.py.

``SQLAlchemyJobStore.add_job`` writes one row in one transaction per job: loading a million jobs
that way took over an hour, so the baseline was never measured at the sizes it is compared at.
Inside ``bulk()`` the same rows (id, next run time, the pickled job state, exactly as ``add_job``
writes them) are kept and written in one transaction at the end; outside it the store is
APScheduler's own. Reading, updating and removing jobs stay APScheduler's.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import create_engine, event


class BulkSQLAlchemyJobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rows: list[dict[str, Any]] | None = None

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Jobs added meanwhile (``scheduler.start()`` adds the pending ones) go in at the end."""
        self._rows = []
        try:
            yield
        finally:
            rows, self._rows = self._rows, None
            if rows:
                with self.engine.begin() as connection:
                    connection.execute(self.jobs_t.insert(), rows)

    def add_job(self, job: Any) -> None:
        if self._rows is None:
            super().add_job(job)
            return
        self._rows.append(
            {
                "id": job.id,
                "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
                "job_state": pickle.dumps(job.__getstate__(), self.pickle_protocol),
            }
        )


def aps_sqlite_store(path: Path) -> BulkSQLAlchemyJobStore:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _tune(conn: Any, _record: Any) -> None:
        # As Warta's own file: write-ahead log, no fsync per commit.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")

    return BulkSQLAlchemyJobStore(engine=engine)
