"""Progress bars: drawn on a terminal, silent otherwise; the epoch line."""

import io

from engine.progress import SILENT, Progress, epoch_line


def test_epoch_line():
    assert (
        epoch_line(3, 10, 0.41234, 0.4551, 9.1e-4, 2.34)
        == "epoch 3/10 train_loss 0.4123 val_loss 0.4551 lr 9.1e-04 (2.3 s)"
    )
    assert (
        epoch_line(1, 2, 1.0, None, 1e-3, 0.04, val_log_g=0.5)
        == "epoch 1/2 train_loss 1 lr 1.0e-03 val_log_g 0.5 (0.0 s)"
    )


def test_silent_when_not_a_terminal(capsys):
    progress = Progress()  # pytest captures stdout: not a TTY
    assert not progress.enabled
    with progress:
        task = progress.task("epochs", total=3)
        task.advance()
        task.update(description="x")
        task.done()
    SILENT.task("blocks", 2).advance()
    assert capsys.readouterr().out == ""


def test_bars_draw_on_a_console():
    from rich.console import Console

    out = io.StringIO()
    with Progress(enabled=True, console=Console(file=out, force_terminal=True, width=80)) as progress:
        keep = progress.task("trial a", total=2, keep=True)
        keep.advance(2)
        keep.done()
        gone = progress.task("epoch 1/2", total=5)
        gone.advance()
        gone.done()
        assert [t.description for t in progress._bars.tasks] == ["trial a"]
    assert "trial a" in out.getvalue()
