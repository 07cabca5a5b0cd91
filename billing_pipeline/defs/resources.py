"""The one resource every step uses: validated settings plus an engine on the store (schema brought current)."""


from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import PrivateAttr
from sqlalchemy import Engine
from upath import UPath

from billing_pipeline.settings import Settings
from billing_pipeline.store.engine import create_store_engine
from billing_pipeline.store.migrate import upgrade


class BillingResource(dg.ConfigurableResource):
    """Settings come from the BILLING_* environment; these fields, when set, win over it."""

    data_dir: str | None = None
    database_url: str | None = None

    _settings: Settings | None = PrivateAttr(default=None)
    _engine: Engine | None = PrivateAttr(default=None)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            overrides = {}
            if self.data_dir:
                overrides["data_dir"] = Path(self.data_dir).resolve()
            if self.database_url:
                overrides["database_url"] = self.database_url
            self._settings = Settings.from_env(**overrides)
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_store_engine(self.settings.database_url)
            upgrade(self._engine)
        return self._engine

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._engine is not None:
            self._engine.dispose()


def staged_frames_dir(staging_dir: Path) -> Path:
    """Where the chunk IO manager keeps validated frames: UPathIOManager's <base>/<asset key>/<partition>.parquet."""
    return staging_dir / "validated_chunk"


def staged_frame(staging_dir: Path, chunk_key: str) -> Path:
    return staged_frames_dir(staging_dir) / f"{chunk_key}{_ParquetFrames.extension}"


def staged_chunk_keys(staging_dir: Path) -> list[str]:
    return sorted(path.stem for path in staged_frames_dir(staging_dir).glob(f"*{_ParquetFrames.extension}"))


def discard_staged_frames(staging_dir: Path, chunk_keys: list[str]) -> int:
    """Removes these chunks' validated frames (~6 MB per 100k rows); returns how many there were."""
    removed = 0
    for key in chunk_keys:
        try:
            staged_frame(staging_dir, key).unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


class _ParquetFrames(dg.UPathIOManager):
    extension = ".parquet"

    def dump_to_path(self, context: dg.OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        obj.to_parquet(path, index=False)

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        if not path.exists():
            raise dg.Failure(
                description=f"the validated frame {path} is gone: frames are removed once their file's report is "
                "written. Materialize validated_chunk for this chunk again, then this asset.",
                allow_retries=False,
            )
        return pd.read_parquet(path)


class ChunkFrameIOManager(dg.ConfigurableIOManagerFactory):
    """Validated chunk frames as Parquet under <BILLING_DATA_DIR>/staging, one file per chunk partition."""

    base_dir: str | None = None

    def create_io_manager(self, context: dg.InitResourceContext) -> _ParquetFrames:
        base = Path(self.base_dir) if self.base_dir else Settings.from_env().staging_dir
        return _ParquetFrames(base_path=UPath(base))
