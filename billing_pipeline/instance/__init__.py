"""Dagster instance plugins, named in dagster.yaml and dagster_embedded.yaml: they run inside Dagster's own
processes (daemon, webserver, code server, run workers), not in the pipeline's steps."""
