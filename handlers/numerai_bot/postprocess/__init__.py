"""Post-processing of a model's live predictions before the checked file: neutralize, rank,
blend; each step a small typed value built from the model's config."""
