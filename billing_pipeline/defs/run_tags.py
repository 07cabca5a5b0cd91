"""The tags every run of a file carries, so that the Runs view filters a file's split, chunk, delivery and report
runs by `billing/file_id` (or its name)."""

FILE_ID_TAG = "billing/file_id"
ORIGINAL_NAME_TAG = "billing/original_name"
CHUNK_TAG = "billing/chunk"
_MAX_TAG_VALUE = 200  # a file name is the client's string: kept short enough for any run storage


def file_tags(file_id: str, original_name: str) -> dict[str, str]:
    return {FILE_ID_TAG: file_id.strip(), ORIGINAL_NAME_TAG: original_name[:_MAX_TAG_VALUE]}


def chunk_tags(chunk_key: str, file_id: str, original_name: str) -> dict[str, str]:
    return {**file_tags(file_id, original_name), CHUNK_TAG: chunk_key}
