"""The BG/NBD model (Fader, Hardie & Lee 2005), fitted and evaluated with numpy/scipy.

Purchases while alive follow a Poisson process with rate lambda ~ Gamma(r, alpha); after each
purchase the customer drops out with probability p ~ Beta(a, b). Per-customer likelihood
(paper eq. 6), with x repeat purchases, last at t_x, observed for age:
    L = B(a, b+x)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+age)^(r+x))
      + [x > 0] B(a+1, b+x-1)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+t_x)^(r+x))
Fitting compresses identical (x, t_x, T) rows first and follows the analytic gradient.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field
from scipy import optimize, special

from service.scoring.columns import F64
from service.scoring.version import SCORING_VERSION


class BgNbdParams(BaseModel):
    """Fitted BG/NBD parameters with the data they came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    r: float = Field(gt=0)
    alpha: float = Field(gt=0)
    a: float = Field(gt=0)
    b: float = Field(gt=0)
    log_likelihood: float
    n_customers: int = Field(ge=0)
    unit_days: float = Field(default=7.0, gt=0)
    converged: bool = True
    scoring_version: str = SCORING_VERSION


def log_likelihood(r: float, alpha: float, a: float, b: float, x: F64, t_x: F64, age: F64) -> F64:
    """Per-customer log-likelihood (vectorised)."""
    common = special.gammaln(r + x) - special.gammaln(r) + r * math.log(alpha)
    beta_ratio = (
        special.gammaln(a + b)
        + special.gammaln(b + x)
        - special.gammaln(b)
        - special.gammaln(a + b + x)
    )
    term_alive = -(r + x) * np.log(alpha + age)
    repeat = x > 0
    # For x == 0 the second term does not exist; log(0) = -inf drops it out of logaddexp.
    with np.errstate(divide="ignore", invalid="ignore"):
        term_dead = np.where(
            repeat,
            math.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return np.asarray(common + beta_ratio + np.logaddexp(term_alive, term_dead), dtype=np.float64)


def log_likelihood_and_gradient(
    r: float, alpha: float, a: float, b: float, x: F64, t_x: F64, age: F64
) -> tuple[F64, npt.NDArray[np.float64]]:
    """Per-customer log-likelihood and its gradient in (r, alpha, a, b), shape (n, 4).

    With LL = A + log(e^B + [x>0] e^C) and w = [x>0] e^C / (e^B + [x>0] e^C):
        dr     = psi(r+x) - psi(r) + ln alpha - (1-w) ln(alpha+T) - w ln(alpha+t_x)
        dalpha = r/alpha - (r+x) ((1-w)/(alpha+T) + w/(alpha+t_x))
        da     = psi(a+b) - psi(a+b+x) + w/a
        db     = psi(a+b) + psi(b+x) - psi(b) - psi(a+b+x) - w/(b+x-1)
    """
    ll = log_likelihood(r, alpha, a, b, x, t_x, age)
    repeat = x > 0
    bx1 = np.where(repeat, b + x - 1, 1.0)
    term_alive = -(r + x) * np.log(alpha + age)
    term_dead = np.where(repeat, math.log(a) - np.log(bx1) - (r + x) * np.log(alpha + t_x), -np.inf)
    w = np.exp(term_dead - np.logaddexp(term_alive, term_dead))
    psi = special.digamma
    dr = (
        psi(r + x)
        - psi(r)
        + math.log(alpha)
        - (1 - w) * np.log(alpha + age)
        - w * np.log(alpha + t_x)
    )
    dalpha = r / alpha - (r + x) * ((1 - w) / (alpha + age) + w / (alpha + t_x))
    da = psi(a + b) - psi(a + b + x) + w / a
    db = psi(a + b) + psi(b + x) - psi(b) - psi(a + b + x) - np.where(repeat, w / bx1, 0.0)
    return ll, np.column_stack([dr, dalpha, da, db])


def _validate(x: F64, t_x: F64, age: F64) -> None:
    if not (len(x) == len(t_x) == len(age)):
        raise ValueError("x, t_x and age must have the same length")
    if len(x) == 0:
        raise ValueError("BG/NBD needs at least one customer")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > age + 1e-9):
        raise ValueError("need x >= 0 and 0 <= t_x <= age for every customer")
    if np.any((x > 0) & (t_x <= 0)):
        raise ValueError("a customer with repeat purchases needs t_x > 0")


def fit_bgnbd(
    x: F64,
    t_x: F64,
    age: F64,
    *,
    unit_days: float = 7.0,
    initial: tuple[float, float, float, float] = (0.5, 5.0, 0.5, 2.0),
) -> BgNbdParams:
    """Maximum-likelihood fit on log-parameters (L-BFGS-B, Nelder-Mead as a fallback)."""
    x, t_x, age = (np.asarray(v, dtype=np.float64) for v in (x, t_x, age))
    _validate(x, t_x, age)
    rows, weights = np.unique(np.column_stack([x, t_x, age]), axis=0, return_counts=True)
    ux, utx, uage = rows[:, 0], rows[:, 1], rows[:, 2]

    def objective(theta: F64) -> tuple[float, F64]:
        params = np.exp(np.clip(theta, -20, 20))
        r, alpha, a, b = (float(v) for v in params)
        ll, grad = log_likelihood_and_gradient(r, alpha, a, b, ux, utx, uage)
        value = -float(np.dot(weights, ll))
        if not math.isfinite(value):
            return 1e300, np.zeros(4)
        # d/d(log p) = p * d/dp: the optimiser works on log-parameters to stay positive.
        return value, -(weights @ grad) * params

    start = np.log(np.asarray(initial, dtype=np.float64))
    # Analytic gradient: one likelihood pass per L-BFGS-B step instead of five (finite
    # differences); Nelder-Mead needed thousands of passes (334 s on 100k customers), so it
    # only runs as a fallback when L-BFGS-B fails.
    best = optimize.minimize(objective, start, jac=True, method="L-BFGS-B")
    if not best.success:
        simplex = optimize.minimize(
            lambda th: objective(th)[0], best.x, method="Nelder-Mead", options={"maxiter": 2000}
        )
        best = simplex if simplex.fun <= best.fun else best
    r, alpha, a, b = (float(v) for v in np.exp(best.x))
    return BgNbdParams(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=-float(best.fun),
        n_customers=len(x),
        unit_days=unit_days,
        converged=bool(best.success),
    )


def death_odds(p: BgNbdParams, x: F64, t_x: F64, age: F64) -> F64:
    """[x > 0] a/(b+x-1) ((alpha+age)/(alpha+t_x))^(r+x): odds of having dropped out.

    p_alive, expected_purchases and p_no_purchase all use them: a caller wanting several of
    those works them out once and passes them on (`odds=`)."""
    repeat = x > 0
    safe = np.where(repeat, p.b + x - 1, 1.0)
    log_odds = (
        math.log(p.a) - np.log(safe) + (p.r + x) * (np.log(p.alpha + age) - np.log(p.alpha + t_x))
    )
    return np.where(repeat, np.exp(np.minimum(log_odds, 700.0)), 0.0)


def p_alive(p: BgNbdParams, x: F64, t_x: F64, age: F64, *, odds: F64 | None = None) -> F64:
    """P(still active at age). Equals 1 for x == 0 by construction: never use it alone to rank
    one-time buyers (it ranks them as the safest customers; see docs/scoring.md).
    `odds`: `death_odds(p, x, t_x, age)` when the caller has them already."""
    if odds is None:
        odds = death_odds(p, x, t_x, age)
    return np.asarray(1.0 / (1.0 + odds), dtype=np.float64)


def expected_purchases(
    p: BgNbdParams, t: float, x: F64, t_x: F64, age: F64, *, odds: F64 | None = None
) -> F64:
    """Expected purchases in (age, age+t] (paper eq. 10)."""
    if t <= 0:
        raise ValueError("horizon must be positive")
    if odds is None:
        odds = death_odds(p, x, t_x, age)
    z = t / (p.alpha + age + t)
    hyp = special.hyp2f1(p.r + x, p.b + x, p.a + p.b + x - 1, z)
    first = (p.a + p.b + x - 1) / (p.a - 1)
    bracket = 1.0 - ((p.alpha + age) / (p.alpha + age + t)) ** (p.r + x) * hyp
    out = first * bracket / (1.0 + odds)
    return np.asarray(np.maximum(out, 0.0), dtype=np.float64)


def p_no_purchase(
    p: BgNbdParams, t: float, x: F64, t_x: F64, age: F64, *, odds: F64 | None = None
) -> F64:
    """P(no purchase in (age, age+t]) = 1 - P(alive) + P(alive) ((alpha+age)/(alpha+age+t))^(r+x).

    This is the calibrated label-free churn probability: it covers one-time buyers correctly
    (they are alive with probability 1 but buy rarely, so the second term does the work).
    """
    if t <= 0:
        raise ValueError("horizon must be positive")
    alive = p_alive(p, x, t_x, age, odds=odds)
    quiet = ((p.alpha + age) / (p.alpha + age + t)) ** (p.r + x)
    return np.asarray(1.0 - alive + alive * quiet, dtype=np.float64)
