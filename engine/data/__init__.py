"""Spectra in, arrays and blocks out: shard sets, selections, noise, the synthetic generator."""
