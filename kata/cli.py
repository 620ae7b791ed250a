"""The `kata` command: the learner's loop and the instructor's grader.

kata [watch] [--manual]     re-run the stages on every save (the default)
kata list                   the stages, their status and files
kata hint [STAGE]           the next hint for a stage (default: the first unfinished one)
kata check [STAGE]          one run; exit status 0 only when it passes
kata reset STAGE | --all    restore the original stub (your file is kept as a backup)
kata solution STAGE         the reference, once your stage passes
kata handout DIR            the learner's release: stubs, public tests, the kata; no solutions, no hidden tests
kata autograder FILE.zip    Gradescope's autograder bundle (all tests, hidden ones included)
kata classroom DIR          a handout with GitHub Classroom's autograding workflow
kata grade [--impl PATH]... grade submissions into results.json / JUnit / CSV
kata train PRESET           train the model you wrote (bigram, gpt-cpu, gpt-lecture)
kata sample DIR             text from a trained run
kata notebook [DIR]         the path as a Jupyter/Colab notebook, checked by the same suite
"""

import argparse
import os
import sys
import time
from pathlib import Path

from rich.syntax import Syntax
from rich.text import Text

from kata import display
from kata.grading import command as grading_command
from kata.handout import ReleaseError
from kata.implementation import display_path, resolve_implementation
from kata.manifest import REPOSITORY_ROOT, ManifestError, presets, stage_named, stages
from kata.messages import sentences
from kata.stage_status import apply_locks, check_stages, first_unfinished
from kata.workspace import kata_command, next_hint, reset_stage


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()  # `kata train` counts its time before step 0 from here, torch's import included
    try:
        arguments = _parser().parse_args(argv)  # the parser lists the manifest's presets
        arguments.started = started
        return arguments.handler(arguments)
    except (KeyError, FileNotFoundError, LookupError, ReleaseError, ManifestError) as error:
        display.console().print(Text(str(error.args[0] if error.args else error), style="red"))
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kata", description="Build a GPT from scratch, one tested stage at a time.")
    parser.set_defaults(handler=_watch, manual=False, impl=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name, handler, help_text, one_folder=True):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        if one_folder:
            sub.add_argument("--impl", default=None, help="the folder to work on (default: exercises, or KATA_IMPL)")
        return sub

    watch = command("watch", _watch, "re-run the stages on every save under exercises/ (the default command)")
    for sub in (parser, watch):
        sub.add_argument("--manual", action="store_true", help="re-run when you press Enter instead of on save")
    parser.add_argument("--impl", default=None, help=argparse.SUPPRESS)
    command("list", _list, "the stages, their status and their files")
    command("hint", _hint, "the next hint for a stage").add_argument(
        "stage", nargs="?", help="name or number (default: the first unfinished)"
    )
    command("check", _check, "run the tests once; exit status 0 only when they pass").add_argument(
        "stage", nargs="?", help="name or number (default: all)"
    )
    reset = command("reset", _reset, "restore a stage's original stub; your file is kept in .kata/backups/")
    reset.add_argument("stage", nargs="?", help="name or number")
    reset.add_argument("--all", action="store_true", help="reset every stage")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    command("solution", _solution, "show the reference solution of a stage you have passed").add_argument("stage")
    command(
        "handout", _handout, "write the learner's release into a new folder: no solutions, no hidden tests", False
    ).add_argument("folder", help="a new or empty folder")
    command(
        "autograder", _autograder, "write Gradescope's autograder zip (setup.sh, run_autograder, every test)", False
    ).add_argument("zip", help="the zip file to write, e.g. gpt-kata-autograder.zip")
    command(
        "classroom", _classroom, "add GitHub Classroom's autograding workflow to a handout (made if new)", False
    ).add_argument("folder", help="a handout's folder, or a new one")
    grading_command.add_arguments(
        command("grade", _grade, "grade submissions in a sandbox: folders laid out like exercises/", one_folder=False)
    )
    train = command("train", _train, "train the model you wrote on the corpus; Ctrl-C saves a checkpoint")
    train.add_argument("preset", choices=list(presets()), help="; ".join(_preset_help()))
    train.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    train.add_argument("--steps", type=int, default=None, help="override the preset's number of steps")
    train.add_argument("--seed", type=int, default=1337)
    train.add_argument("--out", default=None, help="run folder (default: runs/PRESET)")
    train.add_argument("--resume", action="store_true", help="continue from the checkpoint in the run folder")
    sample = command("sample", _sample, "generate text with a trained run")
    sample.add_argument("run", help="a run folder written by kata train")
    sample.add_argument("--tokens", type=int, default=500, help="how many characters to generate (default 500)")
    sample.add_argument("--prompt", default="\n", help="the text to continue (default: a newline)")
    sample.add_argument("--seed", type=int, default=None, help="repeat a sample (default: a new one each time)")
    sample.add_argument(
        "--temperature", type=float, default=1.0, help="above 0; below 1 more predictable, above 1 more surprising"
    )
    sample.add_argument("--top-k", type=int, default=None, help="draw each token from the K most likely only")
    sample.add_argument(
        "--top-p", type=float, default=None, help="draw from the most likely tokens that hold P of the mass (stage 10)"
    )
    train.add_argument(
        "--tokenizer",
        choices=["characters", "bpe"],
        default="characters",
        help="characters: your stage 1 (default); bpe: your stage 12's byte-level BPE, 512 tokens",
    )
    for sub in (train, sample):
        sub.add_argument(
            "--threads",
            type=_positive_int,
            default=None,
            help="torch threads (default: two while the other programs leave a core idle, one otherwise; the README "
            "says why)",
        )
    notebook = command(
        "notebook", _notebook, "write the path as a notebook for Jupyter or Colab, with the stubs", one_folder=False
    )
    notebook.add_argument("folder", nargs="?", default="notebook", help="where to write it (default: notebook/)")
    notebook.add_argument(
        "--source", default=None, help="where its set-up cell installs the kata from (default: this clone)"
    )
    notebook.add_argument("--force", action="store_true", help="write a fresh notebook over an existing one")
    return parser


def _preset_help() -> list[str]:
    return [f"{preset.name}: {preset.description}" for preset in presets().values()]


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more (got {value})")
    return value


def _folder(arguments) -> Path:
    return resolve_implementation(arguments.impl)


def _watch(arguments) -> int:
    from kata.watch import watch

    return watch(_folder(arguments), manual=arguments.manual)


def _list(arguments) -> int:
    folder = _folder(arguments)
    statuses = apply_locks(check_stages(folder))
    out = display.console()
    out.print(display.progress_line(statuses))
    out.print(display.stage_table(statuses, folder, with_files=True))
    return 0


def _hint(arguments) -> int:
    folder = _folder(arguments)
    if arguments.stage:
        stage = stage_named(arguments.stage)
    else:
        status = first_unfinished(apply_locks(check_stages(folder)))
        if status is None:
            display.console().print("Every stage passes: no hint needed.")
            return 0
        stage = status.stage
    again = f"run `{kata_command('hint')}` again for the next one"
    display.console().print(display.hint_panel(stage, next_hint(stage, folder), again))
    return 0


def _check(arguments) -> int:
    folder = _folder(arguments)
    selected = [stage_named(arguments.stage)] if arguments.stage else list(stages())
    statuses = check_stages(folder, selected)
    if not arguments.stage:
        apply_locks(statuses)
    out = display.console()
    out.print(display.stage_table(statuses, folder))
    if all(status.done for status in statuses.values()):
        return 0
    out.print(display.next_step(statuses, folder))
    return 1


def _reset(arguments) -> int:
    folder = _folder(arguments)
    if arguments.all == bool(arguments.stage):
        display.console().print(f"Name one stage to reset (`{kata_command('reset s02_batches')}`), or use --all.")
        return 2
    selected = list(stages()) if arguments.all else [stage_named(arguments.stage)]
    files = ", ".join(display_path(folder / stage.module_file) for stage in selected)
    if not arguments.yes:
        answer = input(f"Restore the original stub of {files}? Your current file is kept in .kata/backups/. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing changed.")
            return 1
    for stage in selected:
        backup = reset_stage(stage, folder)
        kept = f"; your file is kept as {display_path(backup)}" if backup else ""
        print(f"Restored {display_path(folder / stage.module_file)}{kept}")
    return 0


def _solution(arguments) -> int:
    stage = stage_named(arguments.stage)
    reference = REPOSITORY_ROOT / "solutions" / stage.module_file
    out = display.console()
    if not reference.is_file():
        out.print(
            sentences(
                f"This copy of the kata is a handout: it holds no reference solutions, so there is none to show for "
                f"{stage.label}",
                "When your stage passes, your code is a solution; your instructor has the reference",
            )
        )
        return 1
    status = check_stages(_folder(arguments), [stage])[stage.name]
    if not status.done:
        out.print(
            Text(
                f"{stage.label} does not pass yet ({status.summary()}). The reference is shown once it does; try "
                f"`{kata_command('hint ' + stage.name)}`."
            )
        )
        return 1
    source = reference.read_text(encoding="utf-8")
    if not out.is_terminal:  # piped or redirected: the file as it is, ready to run
        print(source, end="")
        return 0
    # Long lines wrap at the terminal's width (a wrapped line has no number of its own) and a pager shows
    # what does not fit: less -R keeps the colours, -F prints a short file straight away, -X leaves it on screen.
    os.environ.setdefault("LESS", "-RFX")
    with out.pager(styles=True):
        out.print(solution_view(source))
    return 0


def solution_view(source: str) -> Syntax:
    return Syntax(source, "python", line_numbers=True, word_wrap=True)


def _handout(arguments) -> int:
    from kata.handout import write_handout

    folder = write_handout(Path(arguments.folder))
    print(
        sentences(
            f"Wrote the handout to {display_path(folder)}: the stubs, the public tests, the kata and the corpus, with "
            "no solutions and no hidden tests",
            "A learner starts there with `make learn` (README.md says the rest)",
        )
    )
    return 0


def _autograder(arguments) -> int:
    from kata.autograder import build_autograder

    bundle = build_autograder(Path(arguments.zip))
    print(
        sentences(
            f"Wrote {display_path(bundle)}: upload it as the autograder of a Gradescope programming assignment",
            "Students submit their stage files (s01_tokenizer.py, ...) or their repository",
        )
    )
    return 0


def _classroom(arguments) -> int:
    from kata.handout import write_classroom

    workflow = write_classroom(Path(arguments.folder))
    print(
        sentences(
            f"Wrote {display_path(workflow)}: push the handout to the template repository of a GitHub Classroom "
            "assignment, and every push of a student's repository grades each stage for its points",
        )
    )
    return 0


def _grade(arguments) -> int:
    return grading_command.run(arguments)


def _train(arguments) -> int:
    from kata.train import train_command

    return train_command(
        arguments.preset,
        folder=_folder(arguments),
        console=display.console(),
        device=arguments.device,
        steps=arguments.steps,
        seed=arguments.seed,
        out=Path(arguments.out) if arguments.out else None,
        resume=arguments.resume,
        threads=arguments.threads,
        tokenizer=arguments.tokenizer,
        started=arguments.started,
    )


def _sample(arguments) -> int:
    from kata.train import sample_command

    return sample_command(
        Path(arguments.run),
        console=display.console(),
        tokens=arguments.tokens,
        prompt=arguments.prompt,
        seed=arguments.seed,
        temperature=arguments.temperature,
        top_k=arguments.top_k,
        top_p=arguments.top_p,
        folder=resolve_implementation(arguments.impl) if arguments.impl else None,
        threads=arguments.threads,
    )


def _notebook(arguments) -> int:
    try:
        from kata.notebook import NOTEBOOK_FILE, write_workspace

        path = write_workspace(Path(arguments.folder), kata_source=arguments.source, overwrite=arguments.force)
    except ModuleNotFoundError as error:
        if error.name != "nbformat":
            raise
        display.console().print('`kata notebook` needs nbformat: pip install -e ".[notebook]"')
        return 2
    except FileExistsError as error:
        display.console().print(Text(str(error), style="yellow"))
        return 1
    folder = display_path(path.parent)
    print(
        f"Wrote {display_path(path)} and the stubs in {folder}/exercises/. Open it with `jupyter lab {folder}/"
        f"{NOTEBOOK_FILE}` or upload it to Colab; `kata list` in {folder}/ shows the stages you checked."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
