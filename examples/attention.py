"""Attention as a learned look-up: retrieve the value stored under a key.

Each example is a small dictionary: between 4 and 10 (key, value) pairs, in random order,
keys being distinct letters A-Z and values digits 0-9. Every key of the dictionary is
asked for once, in random order, and the model must answer with the value stored under
it. Where the right pair sits changes from one dictionary to the next, so no fixed
weighting of the positions can answer: the model has to *compare* the query with every
key and copy the value of the one that matches. That is what attention does:

    q = query W_q,  k = pair W_k,  v = pair W_v        (learned projections)
    out = softmax(q k^T / sqrt(d), where=mask) v     -> logits = out W_o + b

and it is trained with cross-entropy, whose gradient at the logits is p - y as ever. The
softmax over the keys is trained only through that: it learns to put its weight on the
matching key because that is what lowers the loss.

Dictionaries shorter than 10 are padded. The mask keeps every query off the padded keys,
and the padded *queries* see no key at all: their rows of the mask are all False, which
gives them zero output and zero gradient (and their targets are ``ignore_index``).

Run:  python examples/attention.py            (a few seconds; figures in out/attention)
"""

from __future__ import annotations

import string
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
    positive_int,
    progress,
)

import minigrad as mg
from minigrad import functional as F
from minigrad import nn, plot
from minigrad.attention import scaled_dot_product_attention

IGNORE = -100  # the target of a padded query: cross_entropy skips it

KEY_NAMES = string.ascii_uppercase


# ---------------------------------------------------------------- the task
def make_dictionaries(
    n: int,
    rng: np.random.Generator,
    n_keys: int = 26,
    n_values: int = 10,
    min_pairs: int = 4,
    max_pairs: int = 10,
) -> dict[str, np.ndarray]:
    """``n`` random dictionaries, padded to ``max_pairs`` slots.

    keys, values: (n, max_pairs) int, the pairs (-1 in padded slots);
    queries: (n, max_pairs) int, the dictionary's keys again in a new order (-1: padding);
    targets: (n, max_pairs) int, the value stored under each query (IGNORE for padding);
    slot: (n, max_pairs) int, where the answer sits (-1 for padding);
    mask: (n, max_pairs, max_pairs) bool, query i may look at slot j (both real)."""
    keys = np.full((n, max_pairs), -1)
    values = np.full((n, max_pairs), -1)
    queries = np.full((n, max_pairs), -1)
    slot = np.full((n, max_pairs), -1)
    sizes = rng.integers(min_pairs, max_pairs + 1, size=n)
    for i, m in enumerate(sizes):
        keys[i, :m] = rng.choice(n_keys, size=m, replace=False)
        values[i, :m] = rng.integers(0, n_values, size=m)
        slot[i, :m] = rng.permutation(m)
        queries[i, :m] = keys[i, slot[i, :m]]
    real = keys >= 0
    targets = np.where(slot >= 0, np.take_along_axis(values, np.maximum(slot, 0), axis=1), IGNORE)
    mask = real[:, :, None] & real[:, None, :]  # (queries are real exactly where keys are)
    return {
        "keys": keys,
        "values": values,
        "queries": queries,
        "targets": targets,
        "slot": slot,
        "mask": mask,
        "n_keys": n_keys,
        "n_values": n_values,
    }


def one_hot(ids: np.ndarray, n: int) -> np.ndarray:
    """Rows of the identity, all zeros for the padding id -1."""
    return np.eye(n + 1)[np.where(ids >= 0, ids, n)][..., :n]


def encode(task: dict[str, Any], rows: Any = slice(None)) -> tuple[np.ndarray, np.ndarray]:
    """The model's inputs: queries one-hot (.., n_keys); pairs one-hot key ++ one-hot value."""
    nk, nv = task["n_keys"], task["n_values"]
    queries = one_hot(task["queries"][rows], nk)
    pairs = np.concatenate([one_hot(task["keys"][rows], nk), one_hot(task["values"][rows], nv)], axis=-1)
    return queries, pairs


def best_guess_without_pairing(task: dict[str, Any]) -> float:
    """The accuracy of answering the most frequent value of each dictionary: the best one
    can do knowing which keys and which values it holds but not which goes with which
    (what averaging the pairs with fixed weights would leave)."""
    hits = total = 0
    for vals, tgt in zip(task["values"], task["targets"]):
        counts = np.bincount(vals[vals >= 0], minlength=task["n_values"])
        answerable = tgt != IGNORE
        # with ties any of the most frequent values is as good: count the expected hit rate
        top = counts == counts.max()
        hits += np.sum(top[tgt[answerable]]) / top.sum()
        total += answerable.sum()
    return float(hits / total)


# ---------------------------------------------------------------- the model
class KeyValueAttention(nn.Module):
    """One attention head with learned query, key and value maps, and a read-out."""

    def __init__(self, n_keys: int, n_values: int, width: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.to_query = nn.Linear(n_keys, width, bias=False, rng=rng)
        self.to_key = nn.Linear(n_keys + n_values, width, bias=False, rng=rng)
        self.to_value = nn.Linear(n_keys + n_values, width, rng=rng)
        self.readout = nn.Linear(width, n_values, rng=rng)

    def forward(self, queries: Any, pairs: Any, mask: np.ndarray) -> tuple[mg.Tensor, mg.Tensor]:
        """Logits (B, Lq, n_values) and the attention weights (B, Lq, Lk)."""
        out, weights = scaled_dot_product_attention(
            self.to_query(queries), self.to_key(pairs), self.to_value(pairs), mask=mask, return_weights=True
        )
        return self.readout(out), weights


def evaluate(model: KeyValueAttention, task: dict[str, Any]) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) over the real queries of ``task``."""
    with mg.no_grad():
        queries, pairs = encode(task)
        logits, _ = model(queries, pairs, task["mask"])
        loss = F.cross_entropy(logits, task["targets"], ignore_index=IGNORE).item()
    real = task["targets"] != IGNORE
    correct = logits.data.argmax(axis=-1) == task["targets"]
    return loss, float(correct[real].mean())


# ---------------------------------------------------------------- the figures
def _draw_weights(ax: Any, weights: np.ndarray, task: dict[str, Any], i: int, title: str) -> Any:
    """Dictionary ``i``'s attention weights, the real queries sorted so that their right
    answers lie on the diagonal (outlined in red); padding hatched."""
    m = int((task["keys"][i] >= 0).sum())
    n_slots = task["keys"].shape[1]
    order = np.concatenate([np.argsort(task["slot"][i, :m]), np.arange(m, n_slots)])
    image = ax.imshow(weights[i][order], vmin=0, vmax=1, cmap="viridis")
    # padded slots (columns) and padded queries (rows: no key to look at, so all-zero weights)
    ax.add_patch(_patch(m - 0.5, -0.5, n_slots - m, n_slots, hatch="///", fill=False, edgecolor="0.7", lw=0))
    ax.add_patch(_patch(-0.5, m - 0.5, m, n_slots - m, hatch="///", fill=False, edgecolor="0.7", lw=0))
    for r in range(m):
        ax.add_patch(_patch(r - 0.42, r - 0.42, 0.84, 0.84, fill=False, edgecolor="red", lw=1.6))
    keys, values = task["keys"][i], task["values"][i]
    ax.set_xticks(range(n_slots))
    ax.set_xticklabels([f"{KEY_NAMES[k]}:{v}" if k >= 0 else "pad" for k, v in zip(keys, values)], fontsize=8)
    ax.set_yticks(range(n_slots))
    ax.set_yticklabels(
        [f"{KEY_NAMES[k]}?" if k >= 0 else "pad" for k in task["queries"][i, order]], fontsize=8
    )
    ax.set_xlabel("stored pair (key:value), in its slot")
    ax.set_ylabel("query (the key asked for)")
    ax.set_title(title, fontsize=10)
    return image


def _patch(x: float, y: float, w: float, h: float, **style: Any) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, **style)


def draw_weights(
    figs: Figures,
    before: np.ndarray,
    after: np.ndarray,
    task: dict[str, Any],
    acc_before: float,
    acc_after: float,
) -> None:
    plt = plot.pyplot()
    sizes = (task["keys"] >= 0).sum(axis=1)
    picks = [int(np.argmax(sizes == 8)), int(np.argmax(sizes == 5))]  # two held-out dictionaries
    fig, axes = plt.subplots(2, 2, figsize=(10, 9.6), layout="constrained")
    for row, i in enumerate(picks):
        _draw_weights(axes[row, 0], before, task, i, f"before training (held-out accuracy {acc_before:.0%})")
        image = _draw_weights(
            axes[row, 1], after, task, i, f"after training (held-out accuracy {acc_after:.0%})"
        )
    fig.colorbar(image, ax=axes, shrink=0.5, label="attention weight (each real row sums to 1)")
    fig.suptitle(
        "Attention weights softmax(q k^T / sqrt(d)) on two held-out dictionaries\n"
        "red: the pair whose key matches the query (rows sorted so these lie on the diagonal);\n"
        "hatched: padding, masked out (a padded query sees no key: its weights are all 0)"
    )
    figs.save(fig, "weights")


def draw_training(figs: Figures, history: dict[str, list[float]], chance: float) -> None:
    plt = plot.pyplot()
    epochs = np.arange(len(history["loss"]))
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax_loss.plot(epochs, history["loss"], marker="o", ms=3, label="training")
    ax_loss.plot(epochs, history["test_loss"], marker="o", ms=3, label="held-out")
    ax_loss.set_xlabel("epoch (0 = before training)")
    ax_loss.set_yscale("log")
    ax_loss.set_ylabel("cross-entropy (nats, log scale)")
    ax_loss.set_title("loss")
    ax_loss.legend()
    ax_acc.plot(epochs, history["train_accuracy"], marker="o", ms=3, color="C0", label="training")
    ax_acc.plot(epochs, history["accuracy"], marker="o", ms=3, color="C1", label="held-out")
    ax_acc.axhline(chance, color="0.4", ls="--", label="best guess without the pairing")
    ax_acc.set_ylim(0, 1.02)
    ax_acc.set_xlabel("epoch (0 = before training)")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_title("retrieving the value stored under the query's key")
    ax_acc.legend(loc="lower right")
    fig.tight_layout()
    figs.save(fig, "training")


# ---------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = build_parser(
        "attention",
        __doc__.split("\n\n")[0],
        epochs=10,
        lr=0.005,
        batch_size=32,
        optimizer="adam",
        batch_help="dictionaries per gradient step",
    )
    parser.add_argument("--train-size", type=positive_int, default=1500, help="training dictionaries")
    parser.add_argument("--test-size", type=positive_int, default=500, help="held-out dictionaries")
    parser.add_argument("--width", type=positive_int, default=16, help="size d of queries, keys, values")
    args = parse(parser, argv)

    rng = np.random.default_rng(args.seed)
    train, test = make_dictionaries(args.train_size, rng), make_dictionaries(args.test_size, rng)
    chance = best_guess_without_pairing(test)
    model = KeyValueAttention(train["n_keys"], train["n_values"], args.width, rng)
    opt = make_optimizer(args.optimizer, model.parameters(), args.lr)
    figs = Figures(args.out, "attention", args.show)

    test_queries, test_pairs = encode(test)
    with mg.no_grad():
        before = model(test_queries, test_pairs, test["mask"])[1].data
    print(
        f"{args.train_size} training and {args.test_size} held-out dictionaries of 4-10 pairs; "
        f"best guess without the pairing: {100 * chance:.1f}%"
    )
    history: dict[str, list[float]] = {"loss": [], "test_loss": [], "train_accuracy": [], "accuracy": []}
    guard = LossGuard(args)
    for epoch in range(args.epochs + 1):  # epoch 0: the untrained model, for reference
        order = rng.permutation(args.train_size) if epoch else []
        for start in range(0, len(order), args.batch_size):
            rows = order[start : start + args.batch_size]
            queries, pairs = encode(train, rows)
            logits, _ = model(queries, pairs, train["mask"][rows])
            loss = F.cross_entropy(logits, train["targets"][rows], ignore_index=IGNORE)
            guard.check(loss, epoch)
            if args.graph and epoch == 1 and start == 0:
                figs.graph(loss)  # one step's graph, before backward() frees it
            opt.zero_grad()
            loss.backward()
            opt.step()
        train_loss, train_acc = evaluate(model, train)
        test_loss, acc = evaluate(model, test)
        for key, value in (
            ("loss", train_loss),
            ("test_loss", test_loss),
            ("train_accuracy", train_acc),
            ("accuracy", acc),
        ):
            history[key].append(value)
        progress(epoch, args.epochs, train_loss, [("train acc", train_acc, "%"), ("test acc", acc, "%")])

    with mg.no_grad():
        after = model(test_queries, test_pairs, test["mask"])[1].data
    real = test["targets"] != IGNORE
    answer_slot = np.maximum(test["slot"], 0)[..., None]
    on_match = np.take_along_axis(after, answer_slot, axis=-1)[..., 0][real]
    on_match_before = np.take_along_axis(before, answer_slot, axis=-1)[..., 0][real]
    print(
        f"mean attention weight on the matching key: {on_match.mean():.3f} "
        f"(before training {on_match_before.mean():.3f})"
    )
    print(f"final test accuracy: {100 * acc:.1f}% (best guess without the pairing {100 * chance:.1f}%)")
    draw_weights(figs, before, after, test, history["accuracy"][0], acc)
    draw_training(figs, history, chance)
    finish(figs, args, model.state_dict())
    return {
        "accuracy": acc,
        "initial_accuracy": history["accuracy"][0],
        "chance": chance,
        "history": history,
        "weight_on_match": float(on_match.mean()),
        "figures": list(figs.paths),
    }


if __name__ == "__main__":
    main()
