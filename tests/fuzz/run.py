"""Run one harness of ``tests.fuzz.harnesses`` under atheris (coverage-guided, libFuzzer options).

    .venv/bin/python -m tests.fuzz.run listing -runs=3000 -seed=1
    .venv/bin/python -m tests.fuzz.run page_token -max_total_time=600 corpus/page_token/

The server's modules are imported with atheris' coverage instrumentation, so
libFuzzer sees which branches of the parsers an input reached. An input that
makes a harness raise anything but InvalidArgument stops the run with a
traceback and a ``crash-<sha1>`` file holding the input (replay: pass the file
as the only argument). See docs/testing.md.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["inventory_server"]):
    from tests.fuzz.harnesses import HARNESSES


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in HARNESSES:
        sys.exit(f"usage: python -m tests.fuzz.run {{{','.join(HARNESSES)}}} [libFuzzer options]")
    harness = HARNESSES[argv[1]]
    atheris.Setup([argv[0], *argv[2:]], harness)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
