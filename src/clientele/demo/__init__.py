"""The demo company: a seeded, reproducible generator of a realistic retail business."""
