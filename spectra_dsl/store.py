"""Durable runs: a journal of step records to resume a run after a crash or a kill -9.

```python
from spectra_dsl.store import SqliteStore

async with SqliteStore.open("runs.sqlite") as store:
    result = await plan.run({"order_id": "o-42"}, store=store, run_id="o-42")
```

:class:`SqliteStore` keeps runs in an SQLite file (standard library ``sqlite3``, WAL
journal, durable against process death); :class:`MemoryStore` keeps them in memory for
tests, with the same API and codec.  Both list what they hold synchronously
(:meth:`Store.runs`, :meth:`Store.steps`) as frozen :class:`RunRecord` and
:class:`StepRecord` objects, and clean up with :meth:`Store.delete` and
:meth:`Store.prune`.

Values are stored with :class:`PickleCodec` by default.  **Trust**: a store file has
the trust of your own code (unpickling can run code): never open a store that came
from a source you do not trust.  ``codec=JsonCodec()`` stores only plain JSON data and
refuses anything else.

Importing this module loads ``sqlite3``; ``import spectra_dsl`` does not.
"""

from __future__ import annotations

from ._store_base import RecordKey as RecordKey
from ._store_base import StepKey as StepKey
from ._store_base import Store as Store
from ._store_codec import PICKLE_PROTOCOL as PICKLE_PROTOCOL
from ._store_codec import Codec as Codec
from ._store_codec import JsonCodec as JsonCodec
from ._store_codec import JsonRefused as JsonRefused
from ._store_codec import PickleCodec as PickleCodec
from ._store_errors import ResumeError as ResumeError
from ._store_errors import RunExistsError as RunExistsError
from ._store_errors import SerializationError as SerializationError
from ._store_errors import StoreError as StoreError
from ._store_fingerprint import CodeChanges as CodeChanges
from ._store_fingerprint import code_fingerprint as code_fingerprint
from ._store_fingerprint import compare_fingerprints as compare_fingerprints
from ._store_fingerprint import plan_fingerprint as plan_fingerprint
from ._store_fingerprint import step_fingerprints as step_fingerprints
from ._store_lease import pid_alive as pid_alive
from ._store_memory import MemoryStore as MemoryStore
from ._store_records import RUN_STATUSES as RUN_STATUSES
from ._store_records import STEP_STATUSES as STEP_STATUSES
from ._store_records import Lease as Lease
from ._store_records import RunRecord as RunRecord
from ._store_records import RunStatus as RunStatus
from ._store_records import StepRecord as StepRecord
from ._store_records import StepStatus as StepStatus
from ._store_records import StepWrite as StepWrite
from ._store_records import call_key as call_key
from ._store_records import new_run_id as new_run_id
from ._store_sqlite import APPLICATION_ID as APPLICATION_ID
from ._store_sqlite import SCHEMA_VERSION as SCHEMA_VERSION
from ._store_sqlite import SqliteStore as SqliteStore
from ._store_sqlite import open_store as open_store

__all__ = [
    "APPLICATION_ID",
    "PICKLE_PROTOCOL",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "STEP_STATUSES",
    "CodeChanges",
    "Codec",
    "JsonCodec",
    "JsonRefused",
    "Lease",
    "MemoryStore",
    "PickleCodec",
    "RecordKey",
    "ResumeError",
    "RunExistsError",
    "RunRecord",
    "RunStatus",
    "SerializationError",
    "SqliteStore",
    "StepKey",
    "StepRecord",
    "StepStatus",
    "StepWrite",
    "Store",
    "StoreError",
    "call_key",
    "code_fingerprint",
    "compare_fingerprints",
    "new_run_id",
    "open_store",
    "pid_alive",
    "plan_fingerprint",
    "step_fingerprints",
]
