"""The update stage: each poll is fetched, digested (digest.py), decided (decide.py, pure) and
applied (pipeline.py, batch.py)."""
