"""A round, room by room: :mod:`.runner` orchestrates; :mod:`.window` is the time arithmetic;
:mod:`.selection` picks and checks the models; :mod:`.lanes` runs predictions with uploads
behind; :mod:`.inputs` reads each model's live input (Numerai's or its own); :mod:`.model_work`
predicts and builds the checked file; :mod:`.exactly_once` is where
an upload becomes exactly-once; :mod:`.records` writes the ledger and raises alerts;
:mod:`.fan_out` hands shards to other workers."""
