"""The benchmark's own process: the models, Lambda packages and stand-ins it measures with, and
the launch of every measured side in a fresh subprocess, so that each side's figures are its own."""
