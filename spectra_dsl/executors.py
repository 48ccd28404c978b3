"""Where steps run: threads, local processes (trio-parallel) or a Dask cluster.

Mark a plain ``def`` step with ``@step(executor="name")`` and bind the name when the
workflow runs, so one workflow runs in threads in a unit test and on a cluster in
production by changing one binding::

    plan.run_sync(inputs, executors={"cpu": ThreadExecutor()})
    plan.run_sync(inputs, executors={"cpu": ProcessExecutor(4)})
    plan.run_sync(inputs, executors={"cpu": DaskExecutor("tcp://scheduler:8786")})

The runner stays in charge: joins, limits, priorities, retries, timeouts and events
behave exactly as with threads; an executor only carries out each call.  See
docs/executors.md.
"""

from ._executor_base import Executor as Executor
from ._executor_base import ExecutorError as ExecutorError
from ._executor_base import Session as Session
from ._executor_dask import DaskExecutor as DaskExecutor
from ._executor_local import ProcessExecutor as ProcessExecutor
from ._executor_local import ProcessStatistics as ProcessStatistics
from ._executor_local import ThreadExecutor as ThreadExecutor

__all__ = [
    "DaskExecutor",
    "Executor",
    "ExecutorError",
    "ProcessExecutor",
    "ProcessStatistics",
    "Session",
    "ThreadExecutor",
]
