"""Judging a trained model: translations of the test split, FID/KID, ground truth, HTML page."""
