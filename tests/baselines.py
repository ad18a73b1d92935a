"""What a model scores without learning the thing a test says it learned: the baselines that a
learning test's threshold must clear.

A threshold means something only if a model that learned nothing cannot reach it. "Nothing"
depends on the task: always the most common class (`majority_accuracy`); a straight line
through the plane, for the data sets made to need a curve (`linear_accuracy`); the letter
frequencies, or the last letter alone, for a model of names that reads three letters of
context (`unigram_loss`, `bigram_loss`). Each is computed from the same points the test
trains and scores on, never copied in as a number, so a change of data moves the baseline
with it.
"""

from __future__ import annotations

import numpy as np


def majority_accuracy(y_fit, y_eval) -> float:
    """Accuracy on `y_eval` of always answering the most common label of `y_fit`."""
    labels, counts = np.unique(np.asarray(y_fit), return_counts=True)
    return float(np.mean(np.asarray(y_eval) == labels[counts.argmax()]))


def linear_accuracy(X_fit, y_fit, X_eval=None, y_eval=None) -> float:
    """The best accuracy on (X_eval, y_eval) of a linear classifier fitted to (X_fit, y_fit):
    scikit-learn's logistic regression, with its default regularisation and with almost none,
    whichever scores higher (so the baseline is a straight line at its best, not a weak one)."""
    from sklearn.linear_model import LogisticRegression

    X_fit, y_fit = np.asarray(X_fit, float), np.asarray(y_fit)
    if X_eval is None:
        X_eval, y_eval = X_fit, y_fit
    X_eval, y_eval = np.asarray(X_eval, float), np.asarray(y_eval)
    scores = []
    for c in (1.0, 1e6):
        model = LogisticRegression(C=c, max_iter=10_000).fit(X_fit, y_fit)
        scores.append(model.score(X_eval, y_eval))
    return float(max(scores))


def unigram_loss(y_fit, y_eval, classes: int) -> float:
    """Cross-entropy on `y_eval` of predicting every next character from its frequency in
    `y_fit` alone (add-one smoothed): a names model that ignores its context."""
    counts = np.bincount(np.asarray(y_fit), minlength=classes) + 1.0
    p = counts / counts.sum()
    return float(-np.log(p[np.asarray(y_eval)]).mean())


def bigram_loss(X_fit, y_fit, X_eval, y_eval, classes: int) -> float:
    """Cross-entropy on `y_eval` of predicting the next character from the last one of the
    context only (counts over (X_fit, y_fit), add-one smoothed): makemore's bigram model."""
    counts = np.ones((classes, classes))
    np.add.at(counts, (np.asarray(X_fit)[:, -1], np.asarray(y_fit)), 1.0)
    p = counts / counts.sum(axis=1, keepdims=True)
    return float(-np.log(p[np.asarray(X_eval)[:, -1], np.asarray(y_eval)]).mean())
