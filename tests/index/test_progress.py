"""Progress bars: on a terminal's stderr only, never on piped output or with --quiet."""
import io
import sys

from index.prepare import steps


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_steps_draws_a_bar_on_a_terminal_and_moves_one_step_per_call(monkeypatch):
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    with steps("Asking 3 questions", 3, quiet=False) as tick:
        assert tick is not None
        for _ in range(3):
            tick()
    shown = err.getvalue()
    assert "Asking 3 questions" in shown and "3/3" in shown


def test_steps_is_silent_when_piped_or_quiet(monkeypatch, capsys):
    with steps("Asking", 3, quiet=True) as tick:
        assert tick is None
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal
    with steps("Asking", 3, quiet=False) as tick:
        assert tick is None
    assert sys.stderr.getvalue() == "" and capsys.readouterr().out == ""
