"""A character-level language model, and what temperature does to its samples.

The model reads the last few characters of Pride and Prejudice (chapters 1-7, shipped with
minigrad) and outputs logits over the next character: each previous character is looked up
in a learned embedding table, the embeddings are concatenated and go through one tanh
layer, then a linear layer gives one logit per character of the vocabulary. Training is
plain classification with cross-entropy (the gradient at the logits is p - y again).

The last 10% of the text is held out. The per-character loss there, in nats (natural
log; divide by ln 2 = 0.693 for bits, as the printout does once), is compared with the
unigram baseline, which predicts every character with its frequency in the training text
and ignores the context.

Generating text means sampling from softmax(logits / T) one character at a time:
T < 1 sharpens the distribution (T -> 0 is always taking the most likely character, which
soon repeats itself), T > 1 flattens it (T -> infinity is uniform noise).

Run:  python examples/temperature_sampling.py    (a few seconds; figures in out/temperature_sampling)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import _blas  # noqa: F401  (before numpy: BLAS on one thread, see _blas.py)
import numpy as np
from _common import (
    Figures,
    LossGuard,
    build_parser,
    finish,
    make_optimizer,
    parse,
    positive_floats,
    positive_int,
    progress,
)

import minigrad as mg
from minigrad import functional as F
from minigrad import nn, plot
from minigrad.sampling import probabilities, sample
from minigrad.text import char_vocab, decode, encode, load_text

SAMPLE_TEMPERATURES = (0.2, 0.7, 1.0, 1.5)
PROMPT = "It is a truth universally acknowledged"
PROBE = "and th"  # a context with a few plausible continuations: e (the), a (that), i (this), o (those)


# ---------------------------------------------------------------- data
def windows(ids: np.ndarray, context: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (previous ``context`` characters, next character) pair of a sequence."""
    X = np.lib.stride_tricks.sliding_window_view(ids[:-1], context)
    return X.copy(), ids[context:]


def unigram_log_probs(train_ids: np.ndarray, vocab_size: int) -> np.ndarray:
    """log of the training frequencies, add-one smoothed (a character unseen in training
    must not get probability 0: its held-out loss would be infinite)."""
    counts = np.bincount(train_ids, minlength=vocab_size) + 1.0
    return np.log(counts / counts.sum())


# ---------------------------------------------------------------- the model
class CharMLP(nn.Module):
    """logits = tanh(concat(E[c_1], ..., E[c_n]) W1 + b1) W2 + b2."""

    def __init__(
        self, vocab_size: int, context: int, embed: int, hidden: int, rng: np.random.Generator
    ) -> None:
        super().__init__()
        self.embedding = nn.Parameter(rng.standard_normal((vocab_size, embed)) * 0.5)
        self.hidden = nn.Linear(context * embed, hidden, rng=rng)
        self.out = nn.Linear(hidden, vocab_size, rng=rng)

    def forward(self, contexts: np.ndarray) -> mg.Tensor:
        """contexts: int (B, context) -> logits (B, vocab_size)."""
        e = self.embedding[contexts]  # a gather; its gradient is a scatter-add into the table
        return self.out(mg.tanh(self.hidden(e.reshape(len(contexts), -1))))


def evaluate(model: CharMLP, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(per-character cross-entropy in nats, next-character accuracy)."""
    with mg.no_grad():
        logits = model(X)
        loss = F.cross_entropy(logits, y).item()
    return loss, float((logits.data.argmax(axis=1) == y).mean())


def next_char_logits(model: CharMLP, context_ids: np.ndarray) -> np.ndarray:
    with mg.no_grad():
        return model(np.asarray(context_ids)[None, :]).data[0]


def generate(
    model: CharMLP,
    prompt_ids: np.ndarray,
    n_chars: int,
    temperature: float,
    rng: np.random.Generator,
    context: int,
) -> np.ndarray:
    ids = list(prompt_ids)
    for _ in range(n_chars):
        ids.append(
            sample(next_char_logits(model, np.array(ids[-context:])), temperature=temperature, rng=rng)
        )
    return np.array(ids[len(prompt_ids) :])


def entropy(p: np.ndarray) -> np.ndarray:
    """-sum p log p over the last axis, in nats (0 log 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=-1)


def tempered_loss(logits: np.ndarray, y: np.ndarray, temperature: float) -> float:
    """Held-out cross-entropy (nats) of softmax(logits / T)."""
    return F.cross_entropy(mg.Tensor(logits / temperature), y).item()


# ---------------------------------------------------------------- figures
def _char_label(c: str) -> str:
    """Tick label for a character: invisible or easily misread ones are named."""
    return {
        " ": "space",
        "\n": "newline",
        "'": "apostrophe",
        '"': "quote",
        ",": "comma",
        ".": "full stop",
        "-": "hyphen",
        ";": "semicolon",
        ":": "colon",
    }.get(c, c)


def draw_next_char(
    figs: Figures, logits: np.ndarray, chars: list[str], temperatures: Sequence[float], probe: str
) -> None:
    plt = plot.pyplot()
    top = np.argsort(-logits)[:10]
    fig, axes = plt.subplots(
        1, len(temperatures), figsize=(3.2 * len(temperatures), 3.6), sharey=True, layout="constrained"
    )
    for ax, t in zip(np.atleast_1d(axes), temperatures):
        p = probabilities(logits, temperature=t)
        ax.bar(range(len(top)), p[top], color="C0")
        ax.bar(len(top), 1 - p[top].sum(), color="0.6")
        ax.set_xticks(range(len(top) + 1))
        ax.set_xticklabels(
            [_char_label(chars[i]) for i in top] + ["rest"],
            fontsize=9,
            rotation=60,
            ha="right",
            rotation_mode="anchor",
        )
        ax.set_title(f"T = {t:g}   (entropy {entropy(p):.2f} nats)", fontsize=10)
        ax.set_xlabel("next character")
    np.atleast_1d(axes)[0].set_ylabel("probability softmax(z / T)")
    fig.suptitle(
        f"The model's next-character distribution after {probe!r} at several temperatures "
        f"(the {len(top)} likeliest at T = 1, then all the others together)"
    )
    figs.save(fig, "next_char")


def draw_entropy(
    figs: Figures,
    probe_logits: np.ndarray,
    test_logits: np.ndarray,
    y_test: np.ndarray,
    unigram_loss: float,
    temperatures: Sequence[float],
    probe: str,
) -> dict[str, np.ndarray]:
    plt = plot.pyplot()
    grid = np.geomspace(0.05, 20, 60)
    vocab = probe_logits.shape[-1]
    probe_h = np.array([entropy(probabilities(probe_logits, temperature=t)) for t in grid])
    mean_h = np.array([entropy(probabilities(test_logits, temperature=t)).mean() for t in grid])
    losses = np.array([tempered_loss(test_logits, y_test, t) for t in grid])
    fig, (ax_h, ax_l) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    ax_h.semilogx(grid, probe_h, label=f"after {probe!r}")
    ax_h.semilogx(grid, mean_h, label="mean over held-out contexts")
    ax_h.axhline(np.log(vocab), color="0.4", ls="--", label=f"uniform over {vocab} characters")
    for t in temperatures:
        ax_h.axvline(t, color="0.85", lw=1, zorder=0)
    ax_h.set_xlabel("temperature T (log scale; grey lines: the sampled ones)")
    ax_h.set_ylabel("entropy of softmax(z / T) (nats)")
    ax_h.set_title("T -> 0: one sure character; T -> infinity: uniform")
    ax_h.legend(loc="upper left", fontsize=9)
    ax_l.semilogx(grid, losses, label="model at temperature T")
    ax_l.axhline(unigram_loss, color="0.4", ls="--", label="unigram baseline")
    best = grid[np.argmin(losses)]
    ax_l.axvline(best, color="C3", ls=":", label=f"lowest at T = {best:.2f}")
    ax_l.set_ylim(0, 2.5 * unigram_loss)
    ax_l.set_xlabel("temperature T (log scale)")
    ax_l.set_ylabel("held-out cross-entropy (nats per character)")
    ax_l.axhline(np.log(vocab), color="0.7", ls="--", label="uniform (T -> infinity)")
    ax_l.set_title("held-out loss: lowest near the training temperature T = 1")
    ax_l.legend(fontsize=9)
    figs.save(fig, "entropy")
    return {"temperatures": grid, "entropy_probe": probe_h, "entropy_mean": mean_h, "loss": losses}


def draw_training(figs: Figures, history: dict[str, list[float]], unigram_loss: float) -> None:
    plt = plot.pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
    epochs = np.arange(len(history["loss"]))
    ax.plot(epochs, history["loss"], marker="o", ms=3, label="training")
    ax.plot(epochs, history["test_loss"], marker="o", ms=3, label="held-out")
    ax.axhline(unigram_loss, color="0.4", ls="--", label="unigram baseline, held-out")
    ax.set_xlabel("epoch (0 = before training)")
    ax.set_ylabel("cross-entropy (nats per character)")
    ax.set_title("Character-level MLP on Pride and Prejudice")
    ax.legend()
    figs.save(fig, "training")


# ---------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = build_parser(
        "temperature_sampling",
        __doc__.split("\n\n")[0],
        epochs=4,
        lr=0.02,
        batch_size=512,
        optimizer="adam",
        batch_help="characters per gradient step",
    )
    parser.add_argument("--context", type=positive_int, default=4, help="previous characters the model sees")
    parser.add_argument("--embed", type=positive_int, default=12, help="embedding size per character")
    parser.add_argument("--hidden", type=positive_int, default=128, help="hidden units")
    parser.add_argument("--sample-length", type=positive_int, default=160, help="characters per sample")
    parser.add_argument(
        "--temperatures",
        type=positive_floats,
        default=list(SAMPLE_TEMPERATURES),
        help="comma-separated sampling temperatures",
    )
    parser.add_argument(
        "--text-fraction",
        type=float,
        default=1.0,
        help="use only this leading fraction of the text (for quick runs), in (0, 1]",
    )
    args = parse(parser, argv)
    if not 0 < args.text_fraction <= 1:
        parser.error(f"argument --text-fraction: expected a number in (0, 1], got {args.text_fraction}")

    text = load_text()
    text = text[: int(len(text) * args.text_fraction)]
    chars, stoi = char_vocab(load_text())  # the whole text's vocabulary, whatever fraction is used
    ids = encode(text, stoi)
    cut = int(0.9 * len(ids))
    X_train, y_train = windows(ids[:cut], args.context)
    X_test, y_test = windows(ids[cut - args.context :], args.context)  # held-out targets only
    unigram = unigram_log_probs(ids[:cut], len(chars))
    unigram_loss = float(-unigram[y_test].mean())
    print(
        f"{len(chars)} characters; {len(y_train)} training and {len(y_test)} held-out positions; "
        f"unigram baseline {unigram_loss:.4f} nats/char"
    )

    rng = np.random.default_rng(args.seed)
    model = CharMLP(len(chars), args.context, args.embed, args.hidden, rng)
    opt = make_optimizer(args.optimizer, model.parameters(), args.lr)
    figs = Figures(args.out, "sampling", args.show)
    history: dict[str, list[float]] = {"loss": [], "test_loss": [], "accuracy": []}
    guard = LossGuard(args)
    for epoch in range(args.epochs + 1):  # epoch 0: the untrained model, for reference
        order = rng.permutation(len(y_train)) if epoch else []
        for start in range(0, len(order), args.batch_size):
            rows = order[start : start + args.batch_size]
            loss = F.cross_entropy(model(X_train[rows]), y_train[rows])
            guard.check(loss, epoch)
            if args.graph and epoch == 1 and start == 0:
                figs.graph(loss)  # one step's graph, before backward() frees it
            opt.zero_grad()
            loss.backward()
            opt.step()
        train_loss, _ = evaluate(model, X_train, y_train)
        test_loss, acc = evaluate(model, X_test, y_test)
        for key, value in (("loss", train_loss), ("test_loss", test_loss), ("accuracy", acc)):
            history[key].append(value)
        progress(epoch, args.epochs, train_loss, [("held-out loss", test_loss, ""), ("test acc", acc, "%")])

    bits = np.log(2)  # nats per bit
    print(
        f"final held-out loss: {test_loss:.4f} nats/char against {unigram_loss:.4f} for the unigram "
        f"baseline (in bits, nats / ln 2: {test_loss / bits:.3f} against {unigram_loss / bits:.3f})"
    )
    print(f"final test accuracy (next character): {100 * acc:.1f}%")
    prompt_ids = encode(PROMPT, stoi)
    samples = {}
    for t in args.temperatures:
        generated = decode(generate(model, prompt_ids, args.sample_length, t, rng, args.context), chars)
        samples[t] = generated
        print(f"\n--- sample at temperature {t:g} ---\n{PROMPT}{generated}")
    print()

    with mg.no_grad():
        test_logits = model(X_test).data
    probe = PROBE[-args.context :].rjust(args.context)  # what the model sees of PROBE
    probe_logits = next_char_logits(model, encode(probe, stoi))
    draw_next_char(figs, probe_logits, chars, args.temperatures, probe)
    curves = draw_entropy(figs, probe_logits, test_logits, y_test, unigram_loss, args.temperatures, probe)
    draw_training(figs, history, unigram_loss)
    finish(figs, args, model.state_dict())
    return {
        "held_out_loss": test_loss,
        "unigram_loss": unigram_loss,
        "accuracy": acc,
        "samples": samples,
        "history": history,
        "entropy_curves": curves,
        "figures": list(figs.paths),
    }


if __name__ == "__main__":
    main()
