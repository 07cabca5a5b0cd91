"""Dagster only: thin, declarative wiring of the domain stages. Nothing here computes billing logic."""
