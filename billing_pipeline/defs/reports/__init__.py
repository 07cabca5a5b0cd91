"""Reports: a file's totals once it is finished."""
