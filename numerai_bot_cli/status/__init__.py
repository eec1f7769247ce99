"""``numerai-bot status``'s pieces: :mod:`.fetch` asks Numerai, :mod:`.data` builds each
model's line (with :mod:`.payout`'s score), :mod:`.render` prints the tables, :mod:`.plot`
draws ``--plot``, :mod:`.version_notices` names models on older data versions."""
