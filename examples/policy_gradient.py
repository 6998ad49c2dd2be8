"""Policy gradient (REINFORCE): softmax as a policy, and p - y once more.

A policy pi = softmax(z / T) over actions is trained to collect reward. The gradient of
the expected reward J = E_{a ~ pi}[r] is (the score-function / REINFORCE identity)

    dJ/dz = E[ r * d log pi(a) / dz ],      d log pi(a) / dz = (onehot(a) - pi) / T

so minimising the surrogate loss  L = mean_i A_i * (-log pi(a_i))  does gradient ascent on
J. That loss is the cross-entropy of the policy's logits with the action actually taken as
the label, weighted by the advantage A_i = r_i - b (the reward minus a baseline b, which
leaves the gradient's expectation unchanged and shrinks its variance). Its gradient at
the logits is  A_i (pi - onehot(a_i)) / T : prediction minus label, weighted by the return.
Actions that did better than the baseline are made more likely, worse ones less likely.

Two problems:

* a 6-armed bandit (one action, one noisy reward per episode); we also train it at
  several temperatures to see how T trades exploration against exploitation (each
  update moves z by about lr, so z / T by about lr / T: a cold policy commits fast, on
  little evidence, a hot one keeps exploring), and act with the trained policy at
  several temperatures;
* a 5 x 5 grid world with walls: a table of logits, one row per cell, trained from
  whole episodes with discounted returns.

The "loss" in the progress lines is that surrogate: its gradient is what matters, its value
(about 0 on average, whatever the policy) says little; watch the reward instead.

Run:  python examples/policy_gradient.py     (a few seconds; figures in out/policy_gradient)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from _common import (
    Figures,
    LossGuard,
    build_parser,
    finish,
    make_optimizer,
    parse,
    positive_float,
    positive_floats,
    positive_int,
    print_check,
    progress,
    should_log,
)

import minigrad as mg
from minigrad import functional as F
from minigrad import plot
from minigrad.sampling import probabilities, sample

ARM_MEANS = np.array([0.3, -0.2, 1.0, 0.6, 0.1, -0.5])  # rewards: mean + N(0, 1) noise
BEST_ARM = int(np.argmax(ARM_MEANS))
COMPARE_TEMPERATURES = (0.1, 1.0, 5.0)


# ---------------------------------------------------------------- REINFORCE on logits
def advantages(rewards: np.ndarray) -> np.ndarray:
    """r_i minus the mean reward of the *other* episodes of the batch (along the last
    axis): a baseline that does not depend on episode i's own action keeps the gradient
    unbiased."""
    n = rewards.shape[-1]
    others = (rewards.sum(axis=-1, keepdims=True) - rewards) / max(n - 1, 1)
    return rewards - others


def reinforce_loss(logits: mg.Tensor, actions: np.ndarray, adv: np.ndarray, temperature: float) -> mg.Tensor:
    """mean over the episodes (last axis of ``actions``) of A_i * -log softmax(z / T)[a_i],
    summed over any leading axes (independent runs). cross_entropy's gradient at its
    logits is pi - onehot(a): times A_i / T, that is the REINFORCE gradient."""
    ce = F.cross_entropy(logits * (1.0 / temperature), actions, reduction="none")
    return (ce * mg.Tensor(adv / actions.shape[-1])).sum()


def check_identity(rng: np.random.Generator, temperature: float) -> dict[str, float]:
    """d log pi(a) / dz from a real backward pass, against (onehot(a) - pi) / T; and the
    gradient of the batch loss against mean_i A_i (pi - onehot(a_i)) / T."""
    k = len(ARM_MEANS)
    z = mg.Tensor(rng.standard_normal(k), requires_grad=True)
    a = int(sample(z.data, temperature=temperature, rng=rng))
    F.log_softmax(z * (1.0 / temperature))[a].backward()
    pi = probabilities(z.data, temperature=temperature)
    closed = (np.eye(k)[a] - pi) / temperature
    single = float(np.abs(z.grad.data - closed).max())
    print(f"one action a = {a} drawn from pi = softmax(z / {temperature:g}):")
    print(f"  d log pi(a)/dz by backward(): {np.array2string(z.grad.data, precision=4)}")
    print(f"  (onehot(a) - pi) / T:         {np.array2string(closed, precision=4)}")

    z.grad = None
    actions = np.asarray(sample(z.data, temperature=temperature, rng=rng, size=16))
    rewards = ARM_MEANS[actions] + rng.standard_normal(16)
    adv = advantages(rewards)
    reinforce_loss(z.broadcast_to((16, k)), actions, adv, temperature).backward()
    closed_batch = (adv[:, None] * (pi - np.eye(k)[actions])).mean(axis=0) / temperature
    batch = float(np.abs(z.grad.data - closed_batch).max())
    print_check(
        "checks of the REINFORCE gradient, from real backward passes (16 episodes for the loss):",
        {"d log pi(a)/dz - (onehot(a) - pi) / T": single, "dL/dz - mean_i A_i (pi - onehot(a_i)) / T": batch},
    )
    return {"single": single, "batch": batch}


# ---------------------------------------------------------------- the bandit
def pull(actions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return ARM_MEANS[actions] + rng.standard_normal(np.shape(actions))


def train_bandit(
    args: Any,
    rng: np.random.Generator,
    temperature: float,
    runs: int | None = None,
    batch_size: int | None = None,
    verbose: bool = False,
    graph_to: Figures | None = None,
) -> dict[str, Any]:
    """REINFORCE on a table of logits z (one row per independent run, or a single row).
    Returns the reward and the probabilities after every update. With ``graph_to``, the
    graph of the first update's loss is drawn there."""
    batch_size = batch_size or args.batch_size
    shape = (len(ARM_MEANS),) if runs is None else (runs, len(ARM_MEANS))
    z = mg.Tensor(np.zeros(shape), requires_grad=True)  # start uniform: every arm equally likely
    opt = make_optimizer(args.optimizer, [z], args.lr)
    rewards_seen, probs_seen, losses = [], [], []
    guard = LossGuard(args, what=f" of the bandit at T = {temperature:g}")
    for epoch in range(1, args.epochs + 1):
        actions = np.asarray(sample(z.data, temperature=temperature, rng=rng, size=batch_size))
        actions = np.moveaxis(actions, 0, -1)  # (runs..., episodes)
        rewards = pull(actions, rng)
        logits = z.reshape(shape[:-1] + (1, shape[-1])).broadcast_to(actions.shape + shape[-1:])
        loss = reinforce_loss(logits, actions, advantages(rewards), temperature)
        guard.check(loss, epoch)
        if graph_to is not None and epoch == 1:
            graph_to.graph(loss)  # one step's graph, before backward() frees it
        opt.zero_grad()
        loss.backward()
        opt.step()
        rewards_seen.append(rewards.mean(axis=-1))
        probs_seen.append(probabilities(z.data, temperature=temperature))
        losses.append(loss.item())
        if verbose and should_log(epoch, args.epochs, args.log_every):
            progress(
                epoch,
                args.epochs,
                loss.item() + 0.0,
                [
                    ("reward", float(rewards.mean()), ""),
                    ("pi(best arm)", float(probs_seen[-1][BEST_ARM]), ""),
                ],
                prefix="bandit  ",
            )
    return {
        "logits": z.data.copy(),
        "reward": np.array(rewards_seen),
        "probs": np.array(probs_seen),
        "loss": np.array(losses),
    }


def draw_bandit(figs: Figures, run: dict[str, Any], temperature: float) -> None:
    plt = plot.pyplot()
    fig, (ax_r, ax_p) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    steps = np.arange(1, len(run["reward"]) + 1)
    ax_r.plot(steps, run["reward"], color="0.75", lw=1, label="mean reward of the batch")
    window = max(1, len(steps) // 15)
    smooth = np.convolve(run["reward"], np.ones(window) / window, mode="valid")
    ax_r.plot(steps[window - 1 :], smooth, color="C0", label=f"moving average ({window} updates)")
    ax_r.plot(steps, run["probs"] @ ARM_MEANS, color="C2", label="expected reward of the policy")
    ax_r.axhline(ARM_MEANS.max(), color="C3", ls="--", label=f"best arm ({ARM_MEANS.max():g})")
    ax_r.axhline(ARM_MEANS.mean(), color="0.4", ls=":", label="uniformly random arm")
    ax_r.set_xlabel("update (each from one batch of pulls)")
    ax_r.set_ylabel("reward")
    ax_r.set_title("reward over training")
    ax_r.legend(fontsize=8, loc="lower right")
    for arm in range(len(ARM_MEANS)):
        ax_p.plot(
            steps,
            run["probs"][:, arm],
            lw=2.2 if arm == BEST_ARM else 1.2,
            label=f"arm {arm} (mean {ARM_MEANS[arm]:+g})" + ("  best" if arm == BEST_ARM else ""),
        )
    ax_p.set_ylim(0, 1)
    ax_p.set_xlabel("update")
    ax_p.set_ylabel(f"pi(arm) = softmax(z / {temperature:g})")
    ax_p.set_title("action probabilities of the policy")
    ax_p.legend(fontsize=8)
    fig.suptitle(f"REINFORCE on a {len(ARM_MEANS)}-armed bandit (rewards: arm mean + N(0, 1) noise)")
    figs.save(fig, "bandit")


def draw_temperatures(
    figs: Figures, compare: dict[float, dict[str, Any]], trained: dict[str, Any], batch: int
) -> dict:
    plt = plot.pyplot()
    fig, (ax_t, ax_a) = plt.subplots(1, 2, figsize=(11, 5.2), layout="constrained")
    for i, (t, run) in enumerate(compare.items()):
        steps = np.arange(1, len(run["reward"]) + 1)
        on_best = run["probs"][..., BEST_ARM]  # (updates, runs)
        found = float((run["logits"].argmax(axis=-1) == BEST_ARM).mean())
        ax_t.plot(steps, on_best[:, :10], color=f"C{i}", lw=0.6, alpha=0.35)  # a few single runs
        ax_t.plot(
            steps,
            on_best.mean(axis=1),
            color=f"C{i}",
            lw=2.5,
            label=f"T = {t:g}: best arm favoured at the end in {found:.0%} of runs",
        )
    ax_t.set_ylim(0, 1)
    ax_t.set_xlabel("update")
    ax_t.set_ylabel("pi(best arm)")
    runs = next(iter(compare.values()))["probs"].shape[1]
    ax_t.set_title(f"training at temperature T ({runs} runs each, {batch} pulls per update)")
    ax_t.legend(
        fontsize=8,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        frameon=False,
        title="thick: mean over runs; thin: single runs",
        title_fontsize=8,
    )  # below: covers no curve

    grid = np.geomspace(0.01, 100, 80)
    z = trained["logits"]
    expected = np.array([probabilities(z, temperature=t) @ ARM_MEANS for t in grid])
    entropy = np.array([_entropy(probabilities(z, temperature=t)) for t in grid])
    ax_a.semilogx(grid, expected, color="C0", label="expected reward")
    ax_a.axhline(ARM_MEANS.max(), color="C3", ls="--", lw=1, label="best arm")
    ax_a.axhline(ARM_MEANS.mean(), color="0.4", ls=":", lw=1, label="uniformly random")
    ax_a.set_xlabel("temperature T used to act (log scale)")
    ax_a.set_ylabel("expected reward per pull")
    ax_e = ax_a.twinx()
    ax_e.semilogx(grid, entropy, color="C1", label="entropy of pi (right axis)")
    ax_e.set_ylabel("entropy of softmax(z / T) (nats)", color="C1")
    ax_e.set_ylim(0, np.log(len(ARM_MEANS)) * 1.05)
    lines = ax_a.get_legend_handles_labels()
    more = ax_e.get_legend_handles_labels()
    ax_a.legend(
        lines[0] + more[0],
        lines[1] + more[1],
        fontsize=8,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        ncol=2,
        frameon=False,
    )  # below the axes: covers no curve
    ax_a.set_title("acting with the trained logits z at temperature T")
    fig.suptitle("Temperature: low T exploits (and may commit to a wrong arm early), high T explores")
    figs.save(fig, "temperature")
    return {"act_temperatures": grid, "act_expected_reward": expected, "act_entropy": entropy}


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())  # nats


# ---------------------------------------------------------------- the grid world
GRID = [  # S start, G goal, # wall
    "S....",
    ".###.",
    "...#.",
    ".#...",
    ".#.#G",
]
MOVES = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)])  # up, right, down, left
ARROWS = ["^", ">", "v", "<"]
GAMMA = 0.9  # a reward t steps later is worth 0.9^t now: shorter paths score higher


def _grid_arrays() -> tuple[np.ndarray, int, int]:
    cells = np.array([list(row) for row in GRID])
    start = int(np.flatnonzero(cells == "S")[0])
    goal = int(np.flatnonzero(cells == "G")[0])
    return cells == "#", start, goal


def shortest_path() -> int:
    """Steps from S to G by breadth-first search (what a perfect policy needs)."""
    walls, start, goal = _grid_arrays()
    distance = {start: 0}
    frontier = [start]
    while frontier:
        nxt = []
        for cell in frontier:
            for a in range(len(MOVES)):
                new = int(grid_step(np.array([cell]), np.array([a]))[0])
                if new not in distance:
                    distance[new] = distance[cell] + 1
                    nxt.append(new)
        frontier = nxt
    return distance[goal]


def grid_step(states: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """Move one cell; into a wall or off the grid, stay put."""
    walls, _, _ = _grid_arrays()
    rows, cols = walls.shape
    r, c = np.divmod(states, cols)
    nr, nc = r + MOVES[actions, 0], c + MOVES[actions, 1]
    inside = (nr >= 0) & (nr < rows) & (nc >= 0) & (nc < cols)
    nr, nc = np.where(inside, nr, r), np.where(inside, nc, c)
    blocked = walls[nr, nc]
    return np.where(blocked, states, nr * cols + nc)


def run_episodes(
    logits: np.ndarray, n: int, max_steps: int, temperature: float, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """``n`` episodes side by side. Reward 1 on reaching the goal (the episode ends
    there), 0 otherwise. Returns the visited states, the actions, which steps happened
    (alive), the discounted return G_t of every step, and the steps to the goal."""
    _, start, goal = _grid_arrays()
    states = np.full(n, start)
    alive = np.ones(n, dtype=bool)
    steps_to_goal = np.full(n, -1)
    S, A, alive_log = [], [], []
    for t in range(max_steps):
        actions = np.asarray(sample(logits[states], temperature=temperature, rng=rng))
        S.append(states)
        A.append(actions)
        alive_log.append(alive.copy())
        states = np.where(alive, grid_step(states, actions), states)
        reached = alive & (states == goal)
        steps_to_goal[reached] = t + 1
        alive &= ~reached
    S, A, alive_arr = np.array(S).T, np.array(A).T, np.array(alive_log).T  # (n, max_steps)
    t = np.arange(max_steps)
    reached = steps_to_goal > 0
    # the reward arrives on step steps_to_goal - 1; G_t = gamma^(that step - t) before it, 0 after
    final = np.where(reached, steps_to_goal - 1, -1)[:, None]
    returns = np.where(reached[:, None] & (t <= final), GAMMA ** (final - t).clip(min=0), 0.0)
    return {"states": S, "actions": A, "alive": alive_arr, "returns": returns, "steps": steps_to_goal}


def train_grid(args: Any, rng: np.random.Generator) -> dict[str, Any]:
    walls, start, goal = _grid_arrays()
    z = mg.Tensor(np.zeros((walls.size, len(MOVES))), requires_grad=True)  # one row of logits per cell
    opt = make_optimizer(args.optimizer, [z], args.lr)
    history: dict[str, list[float]] = {"return": [], "success": [], "steps": []}
    t_ = args.temperature
    guard = LossGuard(args, what=" in the grid world")
    for epoch in range(1, args.epochs + 1):
        ep = run_episodes(z.data, args.batch_size, args.max_steps, t_, rng)
        # baseline: the mean return at the same time step of the *other* episodes still running
        # (leaving the episode's own return out keeps the gradient unbiased, as for the bandit)
        alive = ep["alive"]
        returns = ep["returns"] * alive
        others = np.maximum(alive.sum(axis=0, keepdims=True) - 1, 1)
        baseline = (returns.sum(axis=0, keepdims=True) - returns) / others
        adv = (returns - baseline) * alive  # steps after the end do not count
        states, actions = ep["states"], ep["actions"]
        ce = F.cross_entropy(z[states] * (1.0 / t_), actions, reduction="none")  # -log pi(a_t | s_t)
        loss = (ce * mg.Tensor(adv)).sum() * (1.0 / args.batch_size)
        guard.check(loss, epoch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        mean_return = float(ep["returns"][:, 0].mean())
        success = float((ep["steps"] > 0).mean())
        history["return"].append(mean_return)
        history["success"].append(success)
        history["steps"].append(float(ep["steps"][ep["steps"] > 0].mean()) if success else np.nan)
        if should_log(epoch, args.epochs, args.log_every):
            progress(
                epoch,
                args.epochs,
                loss.item() + 0.0,
                [("return", mean_return, ""), ("reached goal", success, "%")],
                prefix="grid    ",
            )
    greedy = run_episodes(z.data, 1, args.max_steps, 1e-3, rng)  # T -> 0: the most likely action
    # the cells the trained policy reaches (its own generator: the figure must not change the run)
    final = run_episodes(z.data, 256, args.max_steps, t_, np.random.default_rng(args.seed))
    visited = np.unique(final["states"][final["alive"]])
    return {
        "logits": z.data.copy(),
        "history": history,
        "greedy_steps": int(greedy["steps"][0]),
        "visited": visited,
    }


def draw_grid(figs: Figures, result: dict[str, Any], temperature: float) -> None:
    plt = plot.pyplot()
    walls, start, goal = _grid_arrays()
    rows, cols = walls.shape
    probs = probabilities(result["logits"], temperature=temperature)
    fig, (ax_g, ax_h) = plt.subplots(
        1, 2, figsize=(11, 4.6), layout="constrained", gridspec_kw={"width_ratios": [1, 1.3]}
    )
    confidence = probs.max(axis=1).reshape(rows, cols)
    unvisited = np.ones(walls.size, dtype=bool)
    unvisited[result["visited"]] = False
    # no policy is shown where it is never used
    shown = np.where(walls | unvisited.reshape(rows, cols), np.nan, confidence)
    shown.flat[goal] = np.nan  # the episode ends there: no move to show
    image = ax_g.imshow(shown, cmap="Blues", vmin=0, vmax=1)
    for cell in range(walls.size):
        r, c = divmod(cell, cols)
        if walls[r, c]:
            ax_g.add_patch(_rect(c - 0.5, r - 0.5, color="0.25"))
            continue
        if cell == goal:
            ax_g.text(c, r, "G", ha="center", va="center", fontsize=16, weight="bold", color="C3")
            continue
        if unvisited[cell]:
            ax_g.add_patch(_rect(c - 0.5, r - 0.5, facecolor="white", edgecolor="0.7", hatch="//", lw=0))
            continue
        best = int(probs[cell].argmax())
        dr, dc = MOVES[best]
        ax_g.annotate(
            "",
            xy=(c + 0.32 * dc, r + 0.32 * dr),
            xytext=(c - 0.32 * dc, r - 0.32 * dr),
            arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
        )
        if cell == start:
            ax_g.text(c - 0.42, r - 0.22, "S", fontsize=13, weight="bold", color="C2")
    ax_g.set_xticks([])
    ax_g.set_yticks([])
    ax_g.set_title(
        f"learned policy: likeliest move per cell\n(greedy path from S: "
        f"{result['greedy_steps'] if result['greedy_steps'] > 0 else 'no'} steps to G)"
    )
    fig.colorbar(image, ax=ax_g, shrink=0.8, label="probability of that move")
    from matplotlib.patches import Patch

    never = Patch(facecolor="white", edgecolor="0.7", hatch="//", label="never visited (256 episodes)")
    ax_g.legend(
        handles=[Patch(color="0.25", label="wall"), never],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.02),
        ncol=2,
        fontsize=8,
        frameon=False,
    )
    h = result["history"]
    steps = np.arange(1, len(h["return"]) + 1)
    ax_h.plot(steps, h["success"], color="C0", label="fraction of episodes reaching G")
    ax_h.plot(
        steps, h["return"], color="C1", label=f"mean return (reward 1 at G, discounted by {GAMMA}/step)"
    )
    ax_h.axhline(
        GAMMA ** (shortest_path() - 1),
        color="C1",
        ls="--",
        lw=1,
        label="best possible return (shortest path)",
    )
    ax_h.set_ylim(0, 1.02)
    ax_h.set_xlabel("update (each from one batch of episodes)")
    ax_h.set_ylabel("fraction / return")
    ax_h.set_title("training")
    ax_h.legend(fontsize=8, loc="lower right")
    fig.suptitle("REINFORCE in a 5 x 5 grid world with walls (table of logits, softmax policy)")
    figs.save(fig, "gridworld")


def _rect(x: float, y: float, **style: Any) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), 1, 1, **style)


# ---------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = build_parser(
        "policy_gradient",
        __doc__.split("\n\n")[0],
        epochs=150,
        lr=0.05,
        batch_size=32,
        optimizer="adam",
        epochs_help="policy updates (each from one batch of episodes)",
        batch_help="episodes per update",
    )
    parser.add_argument(
        "--temperature",
        type=positive_float,
        default=1.0,
        help="policy temperature T during training: pi = softmax(z / T)",
    )
    parser.add_argument(
        "--compare-temperatures",
        type=positive_floats,
        default=list(COMPARE_TEMPERATURES),
        help="comma-separated temperatures for the exploration comparison",
    )
    parser.add_argument(
        "--runs",
        type=positive_int,
        default=100,
        help="independent bandit runs per temperature in the comparison",
    )
    parser.add_argument(
        "--compare-batch-size",
        type=positive_int,
        default=4,
        help="pulls per update in the comparison (few: noisy gradients, where T matters)",
    )
    parser.add_argument("--max-steps", type=positive_int, default=30, help="grid world: steps per episode")
    parser.add_argument("--no-grid", action="store_true", help="skip the grid world")
    parser.add_argument(
        "--log-every", type=int, default=0, help="print a progress line every N updates (0: about ten lines)"
    )
    args = parse(parser, argv)
    if args.log_every < 0:
        parser.error(f"argument --log-every: expected an integer >= 0, got {args.log_every}")

    rng = np.random.default_rng(args.seed)
    figs = Figures(args.out, "policy", args.show)
    identity = check_identity(rng, args.temperature)

    print(
        f"\nbandit: arm means {ARM_MEANS.tolist()}, best arm {BEST_ARM}; {args.batch_size} pulls per update"
    )
    run = train_bandit(args, rng, args.temperature, verbose=True, graph_to=figs if args.graph else None)
    p_best = float(run["probs"][-1][BEST_ARM])
    final_reward = float(run["probs"][-1] @ ARM_MEANS)
    print(f"final policy: pi = {np.array2string(run['probs'][-1], precision=3)}")
    print(
        f"\nexploration: {args.runs} runs at each training temperature, {args.compare_batch_size} pulls "
        "per update (noisy gradients)"
    )
    compare = {
        t: train_bandit(args, rng, t, runs=args.runs, batch_size=args.compare_batch_size)
        for t in args.compare_temperatures
    }
    for t, c in compare.items():
        found = float((c["logits"].argmax(axis=-1) == BEST_ARM).mean())
        print(
            f"  trained at T = {t:g}: mean pi(best arm) {c['probs'][-1][:, BEST_ARM].mean():.3f}, "
            f"best arm favoured in {found:.0%} of {args.runs} runs, "
            f"mean reward over training {c['reward'].mean():.3f}"
        )
    draw_bandit(figs, run, args.temperature)
    acting = draw_temperatures(figs, compare, run, args.compare_batch_size)

    grid = None
    if not args.no_grid:
        print(
            f"\ngrid world ({len(GRID)} x {len(GRID[0])}, {args.batch_size} episodes of at most "
            f"{args.max_steps} steps per update):"
        )
        grid = train_grid(args, rng)
        h = grid["history"]
        print(
            f"final: {h['success'][-1]:.0%} of episodes reach the goal, mean return {h['return'][-1]:.3f}; "
            f"greedy policy reaches it in {grid['greedy_steps']} steps (shortest path: {shortest_path()})"
        )
        draw_grid(figs, grid, args.temperature)

    print(
        f"\nfinal pi(best arm): {100 * p_best:.1f}% (arm {BEST_ARM}; expected reward {final_reward:.3f}, "
        f"best possible {ARM_MEANS.max():g})"
    )
    finish(figs, args, {"bandit_logits": run["logits"]} | ({"grid_logits": grid["logits"]} if grid else {}))
    return {
        "p_best": p_best,
        "expected_reward": final_reward,
        "identity_error": identity,
        "bandit": run,
        "compare": compare,
        "acting": acting,
        "grid": grid,
        "figures": list(figs.paths),
    }


if __name__ == "__main__":
    main()
