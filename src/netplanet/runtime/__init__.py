"""The long-running processes: `netplanet run` (service.py: the website and in-process
scheduling) and `netplanet worker` (worker.py: lease-based polling shared through the
database), over the loop machinery both use (scheduler.py)."""
