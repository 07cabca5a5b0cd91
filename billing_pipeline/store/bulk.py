"""Set-based writes of a whole frame: COPY on PostgreSQL, one executemany on SQLite. Never a row at a time."""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection

# Arrow writes CSV ~8x faster than pandas, and quotes every string, so an empty string stays an empty string
# instead of arriving as NULL.
_CSV = pa_csv.WriteOptions(include_header=False, quoting_style="needed")


def copy_frame(connection: Connection, table: str, frame: pd.DataFrame) -> int:
    if frame.empty:
        return 0
    columns = ", ".join(frame.columns)
    if connection.dialect.name == "postgresql":
        buffer = io.BytesIO()
        pa_csv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), buffer, _CSV)
        driver = connection.connection.driver_connection
        assert driver is not None, "a connection in use has its DBAPI connection"  # None only once invalidated
        cursor = driver.cursor()
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(buffer.getbuffer())
        return len(frame)
    placeholders = ", ".join("?" for _ in frame.columns)
    rows = list(frame.itertuples(index=False, name=None))
    connection.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)
    return len(frame)
