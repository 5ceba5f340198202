"""The statement reports of one migration, kept in order with bounded memory.

Up to `limit` reports stay in memory; beyond that they go to an anonymous temporary file (one marshal batch
per `limit` reports) and are read back, a batch at a time, when the migration is rendered. A finding a rule adds after the fact
(`attach`, e.g. E119 at the end of the migration) and the `migrator: ignore` comments (`suppress`) are
applied as the reports are read back, so nothing has to be rewritten in place.
"""

from __future__ import annotations

import marshal
import tempfile
from collections.abc import Iterator
from typing import IO

from migrator.model import Finding, StatementReport
from migrator.rules.suppress import Suppression

LIMIT = 16384  # reports kept in memory (~20 MB); the rest is spooled to disk


class StatementSpool:
    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._memory: list[StatementReport] = []
        self._file: IO[bytes] | None = None
        self._spilled = 0
        self._late: dict[int, list[Finding]] = {}
        self._suppressions: dict[int, list[tuple[int, Suppression]]] = {}  # index -> [(order, suppression)]
        self._everywhere: list[tuple[int, Suppression]] = []
        self._sealed = False

    def __len__(self) -> int:
        return self._spilled + len(self._memory)

    def __bool__(self) -> bool:
        return len(self) > 0

    def append(self, report: StatementReport) -> None:
        self._memory.append(report)
        if len(self._memory) >= self.limit:
            self._spill()

    def attach(self, index: int, finding: Finding) -> None:
        """A finding for statement `index`, found after it was classified."""
        self._late.setdefault(index, []).append(finding)

    def suppress(self, index: int | None, order: int, suppression: Suppression) -> None:
        """`suppression` (the order-th of the migration) covers statement `index`; None: every statement."""
        target = self._everywhere if index is None else self._suppressions.setdefault(index, [])
        target.append((order, suppression))

    def seal(self) -> None:
        """Classification is over: apply late findings and suppressions to the reports still in memory."""
        for i, report in enumerate(self._memory, self._spilled):
            self._finish(i, report)
        self._sealed = True

    def __iter__(self) -> Iterator[StatementReport]:
        if self._file is not None:
            self._file.flush()
            self._file.seek(0)
            i = 0
            while i < self._spilled:
                for record in marshal.load(self._file):  # one batch: what one spill wrote
                    report = StatementReport.from_record(record)
                    if self._sealed:
                        self._finish(i, report)
                    i += 1
                    yield report
            self._file.seek(0, 2)
        yield from self._memory

    def __getitem__(self, index: int) -> StatementReport:
        if index < 0:
            index += len(self)
        if index >= self._spilled:
            return self._memory[index - self._spilled]
        for i, report in enumerate(self):
            if i == index:
                return report
        raise IndexError(index)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="migrator-spool-")
        marshal.dump([report.to_record() for report in self._memory], self._file)  # one batch per spill
        self._spilled += len(self._memory)
        self._memory = []

    def _finish(self, index: int, report: StatementReport) -> None:
        late = self._late.get(index)
        if late:
            report.findings.extend(late)
        covering = self._suppressions.get(index)
        if covering is None and not self._everywhere:
            return
        ordered = sorted((covering or []) + self._everywhere, key=lambda pair: pair[0])
        for finding in report.findings:
            if finding.suppressed is not None:
                continue
            for _, sup in ordered:
                if sup.matches(finding.rule, finding.name):
                    finding.suppressed = sup.reason
                    break
