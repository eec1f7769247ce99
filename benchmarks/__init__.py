"""What the bot costs and how it holds up, measured against local stand-ins.

* ``python -m benchmarks [--quick | --scaling]`` (``make bench``): how fast and how lean the
  worker is against what users run today. ``suite`` prepares the models, the Lambda packages
  and the stand-ins in this process and launches each measured side in a fresh one;
  ``measure`` is what runs inside those processes; ``report`` turns the raw runs into
  figures, targets and text. docs/benchmarks.md says what each case measures.
* ``python -m benchmarks.season`` (``make season``): a season of rounds with killed workers,
  AWS and Numerai faults: how many submissions arrive on time, and none twice.
* ``benchmarks.export``: the exporter alone on Numerai-sized models (converters, LightGBM,
  Signals and Crypto parity).
"""
