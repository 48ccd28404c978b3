"""spectra-dsl: parallel workflows you can trust.

Write steps as plain functions marked ``@step``; a parameter's name says what it needs.
``Workflow.compile()`` checks the graph (forgotten joins, racing writes, cycles, typos)
and returns a :class:`Plan` that a trio runner executes with real parallelism.
"""

from . import events as events
from . import reducers as reducers
from ._ask import Ask as Ask
from ._ask import CurrentStep as CurrentStep
from ._ask import current_step as current_step
from ._control import Match as Match
from ._control import Repeat as Repeat
from ._control import Retry as Retry
from ._control import match as match
from ._errors import CompileError as CompileError
from ._errors import EventHandlerError as EventHandlerError
from ._errors import InputError as InputError
from ._errors import LoopLimitExceeded as LoopLimitExceeded
from ._errors import ReducerError as ReducerError
from ._errors import SpectraError as SpectraError
from ._errors import SpectraWarning as SpectraWarning
from ._errors import StepFailed as StepFailed
from ._errors import StepOutputError as StepOutputError
from ._errors import StepTimeout as StepTimeout
from ._join import Join as Join
from ._outputs import OutputError as OutputError
from ._plan import Plan as Plan
from ._result import RunResult as RunResult
from ._step import step as step
from ._store_errors import ResumeError as ResumeError
from ._store_errors import RunExistsError as RunExistsError
from ._store_errors import SerializationError as SerializationError
from ._stream import EventStream as EventStream
from ._workflow import Workflow as Workflow
from .reducers import last_write_wins as last_write_wins

__all__ = [
    "Ask",
    "CompileError",
    "CurrentStep",
    "EventHandlerError",
    "EventStream",
    "InputError",
    "Join",
    "LoopLimitExceeded",
    "Match",
    "OutputError",
    "Plan",
    "ReducerError",
    "Repeat",
    "ResumeError",
    "Retry",
    "RunExistsError",
    "RunResult",
    "SerializationError",
    "SpectraError",
    "SpectraWarning",
    "StepFailed",
    "StepOutputError",
    "StepTimeout",
    "Workflow",
    "current_step",
    "events",
    "last_write_wins",
    "match",
    "reducers",
    "step",
]
