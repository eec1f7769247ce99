"""The user's own data: where their table is found (:mod:`.tables`), how it is joined to
Numerai's universe for the round and checked (:mod:`.join`), and what the feature function
is asked (:mod:`.feature_function`). The worker reads tables; it never runs user code."""
