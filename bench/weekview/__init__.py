"""The pieces of bench/week_view.py, by job.

- `databases`: the PostgreSQL server and one fresh database per size;
- `server_time`: the child process for one size: seed, then time requests in-process;
- `throughput`: gunicorn under load, requests per second and CPU per request;
- `report`: the table printed at the end, and the goals.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
