"""Report: figures, an HTML page and a markdown summary from a ``results.json`` (SPEC §10–§15).

    from inward.report import Results, write_report, markdown_summary
    results = Results.load("runs/demo/results.json")
    index = write_report(results, Path("runs/demo/report"))   # index.html + fig*.png + results.json
    print(markdown_summary(results))

The schema is in `inward.report.results`; converters from `inward.metrics` tables are in
`inward.report.build`.
Figures need the ``report`` extra (matplotlib).
"""

from inward.report.html import render_html, write_report
from inward.report.results import (
    AVERAGE,
    SCHEMA_VERSION,
    AccRow,
    AnswerRow,
    BehaviourChange,
    Calibration,
    CalibrationCondition,
    CalibrationPanel,
    ChangeRow,
    CrossPrediction,
    CrossPredictor,
    CrossTarget,
    CurvePoint,
    PairedTest,
    Results,
    RunInfo,
    SelfTraining,
    SelfTrainingModel,
    TrainStats,
    find_row,
)
from inward.report.summary import headlines, markdown_summary

__all__ = [
    "AVERAGE",
    "SCHEMA_VERSION",
    "AccRow",
    "AnswerRow",
    "BehaviourChange",
    "Calibration",
    "CalibrationCondition",
    "CalibrationPanel",
    "ChangeRow",
    "CrossPrediction",
    "CrossPredictor",
    "CrossTarget",
    "CurvePoint",
    "PairedTest",
    "Results",
    "RunInfo",
    "SelfTraining",
    "SelfTrainingModel",
    "TrainStats",
    "find_row",
    "headlines",
    "markdown_summary",
    "render_html",
    "write_report",
]
