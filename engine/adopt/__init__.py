"""Adopting documents written before the engine: a legacy report read into a draft spec."""
