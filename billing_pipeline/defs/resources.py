"""The one resource every step uses: validated settings plus an engine on the store (schema brought current)."""


import dagster as dg
import pandas as pd
from pydantic import Field, PrivateAttr
from sqlalchemy import Engine
from upath import UPath

from billing_pipeline import stages
from billing_pipeline.settings import Settings
from billing_pipeline.storage.staged_frames import FRAME_EXTENSION


class BillingResource(dg.ConfigurableResource):
    """Settings come from the BILLING_* environment, read when a step first asks; `data_dir` and `database_url`,
    when set, win over it. `settings_json` is a whole Settings handed over by `billing process`: then the
    environment is not read at all."""

    data_dir: str | None = None
    database_url: str | None = None
    settings_json: str | None = Field(default=None, repr=False)  # it may hold the SMTP password

    _settings: Settings | None = PrivateAttr(default=None)
    _engine: Engine | None = PrivateAttr(default=None)

    @classmethod
    def of(cls, settings: Settings) -> "BillingResource":
        return cls(settings_json=settings.model_dump_json())

    @property
    def settings(self) -> Settings:
        if self._settings is None and self.settings_json:
            self._settings = Settings.model_validate_json(self.settings_json)
        if self._settings is None:
            overrides = {}
            if self.data_dir:
                overrides["data_dir"] = self.data_dir
            if self.database_url:
                overrides["database_url"] = self.database_url
            self._settings = Settings.from_env(**overrides)
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = stages.open_store(self.settings)
        return self._engine

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._engine is not None:
            self._engine.dispose()


class _ParquetFrames(dg.UPathIOManager):
    extension = FRAME_EXTENSION

    def dump_to_path(self, context: dg.OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        stages.write_staged_frame(obj, path)

    def get_metadata(self, context: dg.OutputContext, obj: pd.DataFrame) -> dict[str, dg.MetadataValue]:
        # Not a link: the frame is a hand-over to `debts`, removed once the file's report is written.
        paths = self._get_paths_for_partitions(context) if context.has_asset_partitions else {
            "": self._get_path(context)}
        shown = ", ".join(str(path) for path in paths.values())
        return {"path": dg.MetadataValue.text(f"{shown} (staging; removed once the file's report is written: the "
                                              "rows are in the store, the rejects in rejects_report)")}

    def make_directory(self, path: UPath) -> None:
        # A bucket has no folders (s3fs's mkdir would create a missing bucket); write_staged_frame makes a local one.
        pass

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        try:
            return stages.read_staged_frame(path)
        except FileNotFoundError:
            raise dg.Failure(
                description=f"the validated frame {path} is gone: frames are removed once their file's report is "
                "written. Materialize validated_chunk for this chunk again, then this asset.",
                allow_retries=False,
            ) from None


class ChunkFrameIOManager(dg.ConfigurableIOManagerFactory):
    """Validated chunk frames as Parquet under `{BILLING_DATA_DIR}/staging`, one file per chunk partition."""

    base_dir: str | None = None

    def create_io_manager(self, context: dg.InitResourceContext) -> _ParquetFrames:
        base = stages.location(self.base_dir) if self.base_dir else Settings.from_env().staging_dir
        return _ParquetFrames(base_path=base)
