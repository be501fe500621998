"""Progress bars: on a terminal's stderr only, never on piped output or with --quiet."""
import io
import sys

from index.prepare import progress_bar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_is_drawn_on_a_terminal_and_follows_its_updates(monkeypatch, capsys):
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    bar, update = progress_bar(False, "Asking 3 questions")
    assert bar is not None
    with bar:
        for done in range(1, 4):
            update(done, 3)
    shown = err.getvalue()
    assert "Asking 3 questions" in shown and "3/3" in shown
    assert capsys.readouterr().out == ""  # stdout stays clean for --json


def test_the_bar_is_silent_when_piped_or_quiet(monkeypatch, capsys):
    assert progress_bar(True, "Asking") == (None, None)
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal
    assert progress_bar(False, "Asking") == (None, None)
    assert sys.stderr.getvalue() == "" and capsys.readouterr().out == ""
