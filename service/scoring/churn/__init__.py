"""Churn risk: BG/NBD (no labels), survival (subscriptions), a labelled classifier, thresholds."""
