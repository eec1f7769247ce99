"""The exporter measured alone on Numerai-sized cases (one-off, not unit tests): every converter,
Numerai's example LightGBM model, and Signals/Crypto parity."""
