"""Set-based writes of a whole frame: COPY on PostgreSQL, one executemany on SQLite. Never a row at a time."""

from __future__ import annotations

import io

import pandas as pd
from sqlalchemy import Connection


def copy_frame(connection: Connection, table: str, frame: pd.DataFrame) -> int:
    if frame.empty:
        return 0
    columns = ", ".join(frame.columns)
    if connection.dialect.name == "postgresql":
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, header=False)
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
        return len(frame)
    placeholders = ", ".join("?" for _ in frame.columns)
    rows = list(frame.itertuples(index=False, name=None))
    connection.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)
    return len(frame)
