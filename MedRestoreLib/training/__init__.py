"""Training and data preparation: one command per model family, reading the same configs."""
