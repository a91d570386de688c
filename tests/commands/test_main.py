import subprocess
import sys

KZOO = [sys.executable, "-m", "kzoo.commands"]


def _run(*args):
    return subprocess.run(KZOO + list(args), capture_output=True, text=True, timeout=120)


def test_help_lists_the_commands():
    result = _run("--help")
    assert result.returncode == 0
    for command in ("list", "train", "evaluate", "export", "serve", "bench", "quickstart"):
        assert command in result.stdout


def test_list_prints_every_preset_with_its_parameter_count():
    result = _run("list")
    assert result.returncode == 0
    assert "transformer_base" in result.stdout and "63,082,496" in result.stdout
    assert "gpt2_small" in result.stdout and "124,439,808" in result.stdout


def test_unknown_command_fails_without_a_traceback():
    result = _run("frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "invalid choice" in result.stderr


def test_bench_refuses_an_unknown_area_in_one_sentence():
    result = _run("bench", "--only", "nope")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "unknown benchmark area nope; choose from layers, data, models" in result.stderr


def test_bench_outside_a_checkout_says_where_to_run_it(tmp_path):
    result = subprocess.run([sys.executable, "-c", "import sys; from kzoo.commands import main; sys.exit(main(['bench']))"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 2 and "from a kzoo checkout" in result.stderr
