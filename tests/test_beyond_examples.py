"""The "softmax beyond classification" examples: attention retrieval, temperature sampling
from a character model, and policy gradient. Each is run with small settings: it must
learn (attention > 95% accuracy, the language model beats the unigram baseline on held-out
text, the bandit's policy puts > 0.9 on the best arm), write non-empty PNG figures, and
reject bad flags with exit code 2."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

SMALL = {  # quick settings that still have to learn
    "attention": ["--epochs", "4", "--lr", "0.02", "--train-size", "400", "--test-size", "200"],
    "temperature_sampling": [
        "--epochs",
        "1",
        "--text-fraction",
        "0.4",
        "--sample-length",
        "30",
        "--temperatures",
        "0.2,1.5",
    ],
    "policy_gradient": ["--epochs", "120", "--runs", "8", "--compare-temperatures", "0.2,5"],
}
FIGURES = {
    "attention": {"attention_weights.png", "attention_training.png"},
    "temperature_sampling": {"sampling_next_char.png", "sampling_entropy.png", "sampling_training.png"},
    "policy_gradient": {"policy_bandit.png", "policy_temperature.png", "policy_gridworld.png"},
}


def load(name):
    """Import examples/<name>.py as a module (its folder on sys.path for _common)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each example run once with small settings: (results, stdout, out folder)."""
    cache = {}

    def run(name):
        if name not in cache:
            out = tmp_path_factory.mktemp(name)
            save = out / "params.npz"
            import contextlib
            import io

            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                results = load(name).main(SMALL[name] + ["--out", str(out), "--save", str(save)])
            cache[name] = (results, buffer.getvalue(), out)
        return cache[name]

    return run


def printed_figures(stdout):
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("figures written ("))
    count = int(re.search(r"\((\d+)\)", lines[start])[1])
    return [line.strip() for line in lines[start + 1 : start + 1 + count]]


def assert_pngs(folder, names, results):
    for name in names:
        path = Path(folder) / name
        assert path.is_file(), f"{name} was not written"
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 5000, f"{name} is not a real PNG"
    assert {Path(p).name for p in results["figures"]} == set(names)
    assert all(Path(p).parent == Path(folder) for p in results["figures"])
    assert not [p for p in os.listdir(folder) if p.endswith(".tmp")]  # atomic writes cleaned up


# ---------------------------------------------------------------- attention


def test_attention_example_learns_the_lookup(runs):
    results, stdout, out = runs("attention")
    assert results["accuracy"] > 0.95
    assert results["initial_accuracy"] < 0.3  # it did have to learn
    assert results["chance"] < 0.5  # and no shortcut without the key-value pairing gets there
    assert results["weight_on_match"] > 0.5  # the attention weights moved onto the matching key
    assert_pngs(out, FIGURES["attention"], results)
    # the regression examples' progress format: epoch 0 (untrained) to 4
    lines = re.findall(
        r"^epoch \d/4  loss [0-9.]+  train acc +[0-9.]+%  test acc +[0-9.]+%$", stdout, re.MULTILINE
    )
    assert len(lines) == 5
    assert f"final test accuracy: {100 * results['accuracy']:.1f}%" in stdout


def test_attention_task_needs_the_pairing():
    ex = load("attention")
    task = ex.make_dictionaries(50, np.random.default_rng(0))
    real = task["targets"] != ex.IGNORE
    # each target is the value stored in the slot whose key equals the query
    rows, cols = np.nonzero(real)
    slots = task["slot"][rows, cols]
    assert np.all(task["keys"][rows, slots] == task["queries"][rows, cols])
    assert np.all(task["values"][rows, slots] == task["targets"][rows, cols])
    # padded queries attend to nothing: fully masked rows
    assert not task["mask"][~real].any()


# ---------------------------------------------------------------- temperature sampling


def test_language_model_beats_unigram_on_held_out_text(runs):
    results, stdout, out = runs("temperature_sampling")
    assert results["held_out_loss"] < results["unigram_loss"] - 0.3
    assert set(results["samples"]) == {0.2, 1.5}
    assert all(len(s) == 30 for s in results["samples"].values())
    assert_pngs(out, FIGURES["temperature_sampling"], results)
    assert "--- sample at temperature 0.2 ---" in stdout and "unigram baseline" in stdout
    assert (
        len(
            re.findall(
                r"^epoch \d/1  loss [0-9.]+  held-out loss [0-9.]+  test acc +[0-9.]+%$", stdout, re.MULTILINE
            )
        )
        == 2
    )


def test_entropy_grows_with_temperature(runs):
    curves = runs("temperature_sampling")[0]["entropy_curves"]
    for key in ("entropy_probe", "entropy_mean"):
        h = curves[key]
        assert np.all(np.diff(h) >= -1e-9), f"{key} is not increasing in T"
        assert h[0] < 0.5 * h[-1]


def test_low_temperature_samples_are_less_varied_than_high():
    ex = load("temperature_sampling")
    logits = np.array([2.0, 1.0, 0.5, 0.0, -1.0])
    rng = np.random.default_rng(0)
    cold = [mg.sampling.sample(logits, temperature=0.2, rng=rng) for _ in range(300)]
    hot = [mg.sampling.sample(logits, temperature=1.5, rng=rng) for _ in range(300)]
    assert np.mean(np.array(cold) == 0) > 0.95 > np.mean(np.array(hot) == 0)
    assert ex.entropy(np.full(8, 1 / 8)) == pytest.approx(np.log(8))


# ---------------------------------------------------------------- policy gradient


def test_bandit_policy_finds_the_best_arm(runs):
    results, stdout, out = runs("policy_gradient")
    assert results["p_best"] > 0.9
    probs = results["bandit"]["probs"]
    assert probs[0].max() < 0.3  # it started (nearly) uniform
    assert_pngs(out, FIGURES["policy_gradient"], results)
    assert f"final pi(best arm): {100 * results['p_best']:.1f}%" in stdout
    assert re.search(
        r"^bandit  epoch 120/120  loss -?[0-9.]+  reward -?[0-9.]+  pi\(best arm\) [0-9.]+$",
        stdout,
        re.MULTILINE,
    )


def test_reinforce_gradient_is_onehot_minus_pi_from_a_real_backward(runs):
    results, stdout, _ = runs("policy_gradient")
    assert results["identity_error"]["single"] < 1e-12
    assert results["identity_error"]["batch"] < 1e-12
    assert re.search(
        r"max \|d log pi\(a\)/dz - \(onehot\(a\) - pi\) / T\| += [0-9.e-]+$", stdout, re.MULTILINE
    )


def test_reinforce_loss_gradient_with_temperature():
    ex = load("policy_gradient")
    rng = np.random.default_rng(1)
    z = mg.Tensor(rng.standard_normal(6), requires_grad=True)
    actions = rng.integers(0, 6, size=10)
    adv = rng.standard_normal(10)
    t = 0.5
    ex.reinforce_loss(z.broadcast_to((10, 6)), actions, adv, t).backward()
    pi = np.exp(z.data / t) / np.exp(z.data / t).sum()
    want = (adv[:, None] * (pi - np.eye(6)[actions])).mean(axis=0) / t
    np.testing.assert_allclose(z.grad.data, want, rtol=0, atol=1e-12)


def test_temperature_comparison_and_acting(runs):
    results = runs("policy_gradient")[0]
    compare = results["compare"]
    assert set(compare) == {0.2, 5.0}
    # a cold policy concentrates faster than a hot one
    assert compare[0.2]["probs"][20].max(axis=-1).mean() > compare[5.0]["probs"][20].max(axis=-1).mean()
    acting = results["acting"]
    # acting greedily is worth more than acting at random: expected reward falls as T grows
    assert acting["act_expected_reward"][0] > acting["act_expected_reward"][-1]
    assert np.all(np.diff(acting["act_entropy"]) >= -1e-9)


def test_grid_world_policy_reaches_the_goal(runs):
    ex = load("policy_gradient")
    grid = runs("policy_gradient")[0]["grid"]
    assert grid["history"]["success"][-1] > 0.9
    assert 0 < grid["greedy_steps"] <= ex.shortest_path() + 2


def test_grid_world_moves():
    ex = load("policy_gradient")
    walls, start, goal = ex._grid_arrays()
    assert ex.shortest_path() == 8
    # up from the top-left corner stays; right moves; down from (0, 1) hits a wall and stays
    np.testing.assert_array_equal(ex.grid_step(np.array([0, 0, 1]), np.array([0, 1, 2])), [0, 1, 1])


# ---------------------------------------------------------------- flags, saving, scripts


@pytest.mark.parametrize("name", sorted(SMALL))
def test_save_writes_loadable_parameters(runs, name):
    _, stdout, out = runs(name)
    state = mg.load(out / "params.npz")
    assert state and all(np.all(np.isfinite(a)) for a in state.values())
    assert "saved the trained parameters to" in stdout


TINY = {  # the fewest steps that still take one: for flags whose effect is a file, not learning
    "attention": ["--epochs", "1", "--train-size", "40", "--test-size", "40"],
    "temperature_sampling": [
        "--epochs",
        "1",
        "--text-fraction",
        "0.05",
        "--sample-length",
        "5",
        "--temperatures",
        "1",
    ],
    "policy_gradient": ["--epochs", "2", "--runs", "2", "--compare-temperatures", "1"],
}
GRAPH = {
    "attention": "attention_graph.png",
    "temperature_sampling": "sampling_graph.png",
    "policy_gradient": "policy_graph.png",
}


@pytest.mark.parametrize("name", sorted(TINY))
def test_graph_flag_draws_one_training_step_loss(name, tmp_path, capsys):
    results = load(name).main(TINY[name] + ["--graph", "--out", str(tmp_path)])
    stdout = capsys.readouterr().out
    graph = tmp_path / GRAPH[name]
    data = graph.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 5000, f"{graph} is not a real PNG"
    assert str(graph) in results["figures"] and str(graph) in printed_figures(stdout)
    assert {Path(p).name for p in printed_figures(stdout)} == FIGURES[name] | {GRAPH[name]}


@pytest.mark.parametrize("name", sorted(SMALL))
@pytest.mark.parametrize(
    "bad",
    [
        ["--lr", "-0.1"],
        ["--lr", "nan"],
        ["--epochs", "0"],
        ["--epochs", "2.5"],
        ["--batch-size", "x"],
        ["--optimizer", "rmsprop"],
        ["--seed", "-1"],
        ["--no-such-flag"],
    ],
)
def test_bad_flags_exit_2(name, bad, capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        load(name).main(bad + ["--out", str(tmp_path)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and bad[0] in err
    assert not list(tmp_path.iterdir())  # nothing was written


def test_example_specific_bad_flags_exit_2(capsys, tmp_path):
    cases = [
        ("temperature_sampling", ["--temperatures", "1,-2"]),
        ("temperature_sampling", ["--text-fraction", "0"]),
        ("policy_gradient", ["--log-every", "-3"]),
        ("attention", ["--width", "0"]),
        ("attention", ["--out", str(Path(__file__))]),
        ("attention", ["--save", str(tmp_path)]),
    ]
    for name, bad in cases:
        with pytest.raises(SystemExit) as info:
            load(name).main(bad)
        assert info.value.code == 2, (name, bad)
        assert "error:" in capsys.readouterr().err


def test_default_out_folder_and_script_entry_point(tmp_path):
    """Run as a script from another folder: exit 0, figures in ./out/attention by default."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # the script must choose Agg itself
    proc = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "attention.py"),
            *SMALL["attention"][:2],
            "--train-size",
            "40",
            "--test-size",
            "40",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "epoch 4/4" in proc.stdout
    assert printed_figures(proc.stdout) == [
        os.path.join("out", "attention", f"attention_{n}.png") for n in ("weights", "training")
    ]
    assert (tmp_path / "out" / "attention" / "attention_weights.png").is_file()
    bad = subprocess.run(
        [sys.executable, str(EXAMPLES / "policy_gradient.py"), "--episodes-typo", "3"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "unrecognized arguments" in bad.stderr
