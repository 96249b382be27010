"""The dataset sweep of `focal-tui data --json` in numpy float64: the
baseline of benches/data_vs_numpy.py (and of ``gen_sweep.py --bench``).

``sweep_numpy(np, z, labels, ..., guidance=True)`` computes, chunk by chunk
of rows (float64, log space, the regimes of the crate), every per-γ and
per-class number the JSON report prints:

- the issue-5 outputs (``guidance=False`` computes these only, as the
  baseline did before issue 18): rows, accuracy, mean CE, easy fraction,
  the p_t histogram; per γ mean FL, easy_share(_ce), top_share_90(_ce) from
  the loss histograms (16 bins per binade: a value's bits >> 48, with
  counts and float64 sums per bin); per class count, accuracy, mean CE,
  mean FL and share per γ;
- with ``guidance`` also (issue 18; the definitions of
  src/data/sweep/gradient.rs, guidance.rs, loss_cdf.rs and
  tests/reference/gen_guidance.py): per γ ``easy_gradient_share``
  (Σ |dFL/dz| = α·m·(1 − p) + γ·p·FL over the easy / over all: softmax the
  target logit, easy p_t ≥ ½; sigmoid every logit, easy its own σ(u) ≥ ½,
  and the positives and negatives apart), ``balancing_alpha`` (α_c ∝ 1/U_c,
  mean 1 over the classes with rows; U_c the class's FL with α = 1),
  ``loss_cdf`` (101 points from the same loss histograms, upper and lower
  envelopes and their largest gap) and, in sigmoid mode, the positives'
  and negatives' CDFs from a loss histogram per side and γ (a row's
  positive sample the label logit's focal term, its negative sample the
  sum of the other logits' terms, masked, never FL − P); per class the
  ``alpha_suggestions`` from the counts and the ``guidance_notes``.

Not reproduced: values beyond float64's range (the crate clamps them to
its largest; float32 logits never get there), so no ``saturated`` count.
"""

import math

TOP_MASS = 0.9
CDF_POINTS = 101
HIST_SHIFT = 48
HIST_BINS = 1 << 15
BETAS = (0.9, 0.99, 0.999, 0.9999)
FLAT = 0.01


def sweep_numpy(np, z, labels, gammas=(0.0, 0.5, 1.0, 2.0, 5.0), alpha=0.25, mode="softmax", bins=20,
                guidance=True, chunk_elems=1 << 22):
    """The sweep in numpy float64, chunk by chunk of rows (module docs)."""
    n, k = z.shape
    G = len(gammas)
    sigmoid = mode == "sigmoid"
    alpha_v = np.full(k, alpha, dtype=np.float64) if np.isscalar(alpha) else np.asarray(alpha, np.float64)
    acc = {"correct": 0, "easy": 0, "ce": 0.0, "ce_easy": 0.0, "fl": np.zeros(G), "fl_easy": np.zeros(G),
           "cls_n": np.zeros(k), "cls_ok": np.zeros(k), "cls_ce": np.zeros(k), "cls_fl": np.zeros((G, k)),
           "pt_hist": np.zeros(bins, np.int64), "h_n": np.zeros((G + 1, HIST_BINS)),
           "h_s": np.zeros((G + 1, HIST_BINS)),
           # guidance: per γ Σ|dFL/dz| over positives, easy positives, negatives, easy negatives;
           # sigmoid: each class's positives' FL with α = 1, and a loss histogram per side and γ.
           "grad": np.zeros((G, 4)), "cls_u": np.zeros((G, k)),
           "side_n": np.zeros((2 * G, HIST_BINS)), "side_s": np.zeros((2 * G, HIST_BINS))}

    def histogram(counts, sums, f):
        b = (f.view(np.uint64) >> np.uint64(HIST_SHIFT)).astype(np.int64)
        counts += np.bincount(b, minlength=HIST_BINS)
        sums += np.bincount(b, weights=f, minlength=HIST_BINS)

    def dot(x, y):
        # einsum's own loop: BLAS's dot (np.vdot) wakes its threads for
        # every call, milliseconds each between other work.
        return np.einsum("i,i->", x.ravel(), y.ravel())

    step = max(1, chunk_elems // k)
    buffers = []
    for start in range(0, n, step):
        zc = z[start:start + step].astype(np.float64)
        t = labels[start:start + step]
        m = len(t)
        idx = np.arange(m)
        j = zc.argmax(axis=1)
        correct = j == t
        fl = []
        if not sigmoid:
            zj = zc[idx, j]
            e = np.exp(zc - zj[:, None])
            e_t = e[idx, t]
            e[idx, j] = 0.0
            s = e.sum(axis=1)
            ln_den = np.log1p(s)
            p = e_t / (1.0 + s)
            a = correct & (s < 1.0)
            with np.errstate(divide="ignore"):
                ln_om = np.where(a, np.log(s) - ln_den, np.log1p(-p))
            ce = (zj - zc[idx, t]) + ln_den
            alpha_t = alpha_v[t]
            easy = p >= 0.5
            if guidance:
                om = np.exp(ln_om)
            for gi, gm in enumerate(gammas):
                am = alpha_t if gm == 0 else alpha_t * np.exp(gm * ln_om)
                f = am * ce
                fl.append(f)
                if guidance:
                    grad = am * om if gm == 0 else am * om + gm * p * f
                    acc["grad"][gi, :2] += grad.sum(), grad[easy].sum()
        else:
            u = -zc
            u[idx, t] = zc[idx, t]
            w = np.broadcast_to(1.0 - alpha_v, zc.shape).copy()
            w[idx, t] = alpha_v[t]
            e = np.exp(-np.abs(u))
            l1 = np.log1p(e)
            bce = np.maximum(-u, 0.0) + l1
            sp = np.maximum(u, 0.0) + l1
            ce = bce.sum(axis=1)
            et, ut = e[idx, t], u[idx, t]
            p = np.where(ut >= 0, 1.0 / (1.0 + et), et / (1.0 + et))
            easy = p >= 0.5
            if guidance:
                # Per logit, in buffers reused from chunk to chunk (a fresh
                # array this size costs its page faults each time): 1 − p =
                # σ(−u) and p = σ(u) from one reciprocal q = 1/(1 + e^−|u|),
                # e·q on the other side. With them |dFL/dz| = w·m·(1 − p) +
                # γ·p·FL = w·m·(σ(−u) + γ·σ(u)·BCE): the negatives' sums are
                # dot products of each γ's w·m with σ(−u) and σ(u)·BCE, the
                # positives (the label logits) taken out, all or easy only
                # (σ(u) ≥ ½); the positives' per row.
                if not buffers:
                    buffers.extend(np.empty((step, k)) for _ in range(6))
                om, pb, om_easy, pb_easy, wm, terms = (x[:m] for x in buffers)
                hard = u < 0
                np.add(e, 1.0, out=pb)
                np.divide(1.0, pb, out=pb)
                np.multiply(e, pb, out=om)
                np.copyto(om, pb, where=hard)
                np.multiply(pb, e, out=pb, where=hard)
                pb *= bce
                # The label logits' flat positions: gathers and scatters a
                # third of the cost of [idx, t] (a plain take).
                at = idx * k + t
                sp_t, bce_t, om_t, pb_t = sp.take(at), bce.take(at), om.take(at), pb.take(at)
                om.put(at, 0.0)
                pb.put(at, 0.0)
                easy_l = ~hard
                np.multiply(om, easy_l, out=om_easy)
                np.multiply(pb, easy_l, out=pb_easy)
                alpha_t = alpha_v[t]
            for gi, gm in enumerate(gammas):
                if not guidance:
                    fl.append((w * bce).sum(axis=1) if gm == 0 else (w * np.exp(-gm * sp) * bce).sum(axis=1))
                    continue
                if gm != 0:
                    np.multiply(sp, -gm, out=wm)
                    np.exp(wm, out=wm)
                    wm *= w
                weight = w if gm == 0 else wm
                np.multiply(weight, bce, out=terms)
                # The row's positive sample, then its negatives' (masked).
                pos = terms.take(at)
                terms.put(at, 0.0)
                neg = terms.sum(axis=1)
                fl.append(neg + pos)
                histogram(acc["side_n"][2 * gi], acc["side_s"][2 * gi], pos)
                if k > 1:
                    histogram(acc["side_n"][2 * gi + 1], acc["side_s"][2 * gi + 1], neg)
                m_t = np.exp(-gm * sp_t) if gm != 0 else 1.0
                gp = alpha_t * m_t * (om_t + gm * pb_t)
                neg_all, neg_easy = dot(weight, om), dot(weight, om_easy)
                if gm != 0:
                    neg_all += gm * dot(weight, pb)
                    neg_easy += gm * dot(weight, pb_easy)
                acc["grad"][gi] += gp.sum(), gp[easy].sum(), neg_all, neg_easy
                acc["cls_u"][gi] += np.bincount(t, weights=m_t * bce_t, minlength=k)
        acc["correct"] += int(correct.sum())
        acc["easy"] += int(easy.sum())
        acc["ce"] += ce.sum()
        acc["ce_easy"] += ce[easy].sum()
        acc["cls_n"] += np.bincount(t, minlength=k)
        acc["cls_ok"] += np.bincount(t, weights=correct, minlength=k)
        acc["cls_ce"] += np.bincount(t, weights=ce, minlength=k)
        acc["pt_hist"] += np.bincount(np.minimum((p * bins).astype(np.int64), bins - 1), minlength=bins)
        for gi, f in enumerate(fl + [ce]):
            histogram(acc["h_n"][gi], acc["h_s"][gi], f)
            if gi < G:
                acc["fl"][gi] += f.sum()
                acc["fl_easy"][gi] += f[easy].sum()
                acc["cls_fl"][gi] += np.bincount(t, weights=f, minlength=k)
    return report(np, acc, n, k, gammas, alpha_v, mode, guidance)


def share(part, total):
    """`part / total` in [0, 1]; 0 when the total is 0 (as the crate)."""
    return min(max(part / total, 0.0), 1.0) if total > 0 else 0.0


def top_share(np, counts, sums, rows):
    """The fewest largest values holding 90 % of the total, over `rows`."""
    cnt, sm = counts[::-1], sums[::-1]
    cum = np.cumsum(sm)
    target = TOP_MASS * cum[-1]
    if rows == 0 or target <= 0:
        return 0.0
    b = int(np.searchsorted(cum, target))
    before = cum[b - 1] if b else 0.0
    # ⌈R / mean⌉, ties to within 1e-12 resolved downwards (as the crate).
    need = math.ceil((target - before) / (sm[b] / cnt[b]) * (1.0 - 1e-12))
    return (cnt[:b].sum() + (cnt[b] if need >= cnt[b] else max(1, need))) / rows


def loss_cdf(np, counts, sums, rows):
    """The loss CDF at 101 row fractions from a loss histogram, with the
    bounds of src/data/sweep/loss_cdf.rs (the j smallest of a bin's c values
    sum to at most j·s/c and at least max(j·lo, s − (c − j)·hi))."""
    zeros = {"loss": np.zeros(CDF_POINTS), "loss_lower": np.zeros(CDF_POINTS), "max_gap": 0.0}
    nz = np.flatnonzero(counts)
    if rows == 0 or len(nz) == 0:
        return zeros
    c, s = counts[nz], sums[nz]
    cum_c, cum_s = np.concatenate(([0.0], np.cumsum(c))), np.concatenate(([0.0], np.cumsum(s)))
    total = cum_s[-1]
    if total <= 0:
        return zeros
    k = np.arange(CDF_POINTS, dtype=np.int64) * rows // (CDF_POINTS - 1)
    b = np.minimum(np.searchsorted(cum_c[1:], k), len(nz) - 1)
    j = k - cum_c[b]
    before = cum_s[b]
    edge = nz[b].astype(np.uint64) << np.uint64(HIST_SHIFT)
    lo, hi = edge.view(np.float64), (edge + np.uint64(1 << HIST_SHIFT)).view(np.float64)
    up = j * (s[b] / c[b])
    with np.errstate(invalid="ignore", over="ignore"):
        low = np.minimum(np.fmax(j * lo, s[b] - (c[b] - j) * hi), up)
    upper = np.clip(np.where(j > 0, before + up, before) / total, 0.0, 1.0)
    lower = np.clip(np.where(j > 0, before + low, before) / total, 0.0, 1.0)
    return {"loss": upper, "loss_lower": lower, "max_gap": max(0.0, float((upper - lower).max()))}


def classes_text(c):
    """"class 3" or "classes 1, 4, 7" (at most eight named), as the crate."""
    c = [int(x) for x in c]
    if len(c) == 1:
        return f"class {c[0]}"
    more = f" and {len(c) - 8} more" if len(c) > 8 else ""
    return f"classes {', '.join(map(str, c[:8]))}{more}"


def display(x):
    """A float as Rust's `{}` prints it (for the numbers in the notes)."""
    return repr(float(x)).removesuffix(".0")


def scaled(np, w, total):
    """`w` scaled so that its entries sum to `total` (the largest first)."""
    r = w / w.max()
    return r / r.sum() * total


def alpha_suggestions(np, counts):
    """The class weights of src/data/sweep/guidance.rs from the counts, and their notes."""
    k = len(counts)
    present = counts > 0
    if not present.any():
        return [], ["no class has rows: no α to suggest"]
    notes = []
    if present.sum() == 1:
        notes.append(f"only class {int(np.flatnonzero(present)[0])} has rows: "
                     "the weights cannot balance classes the data does not show")
    if not present.all():
        notes.append(f"{classes_text(np.flatnonzero(~present))} without rows: suggested α 0")
    nc = np.where(present, counts, 1.0)
    out = [{"method": "balanced", "alpha": np.where(present, counts.sum() / (k * nc), 0.0)},
           {"method": "inverse_sqrt", "alpha": scaled(np, np.where(present, 1.0 / np.sqrt(nc), 0.0), present.sum())}]
    for beta in BETAS:
        one_minus = 1.0 - beta
        a = scaled(np, np.where(present, one_minus / -np.expm1(nc * math.log1p(-one_minus)), 0.0), k)
        if np.all(np.abs(a[present] - 1.0) <= FLAT):
            notes.append(f"effective number β = {display(beta)}: every weight within 1 % of 1 "
                         "(each class's rows far exceed 1/(1 − β)); no reweighting")
        out.append({"method": "effective_number", "beta": beta, "alpha": a})
    return out, notes


def balancing_alpha(np, u, with_rows, at):
    """α_c ∝ 1/U_c, mean 1 over the classes with rows (0 for U_c = 0), and the note."""
    zero = with_rows & (u == 0)
    notes = [f"{classes_text(np.flatnonzero(zero))} with no focal loss {at}: balancing α 0"] if zero.any() else []
    live = with_rows & (u > 0)
    r = np.zeros(len(u))
    if live.any():
        r[live] = np.minimum(u[live].min() / u[live], 1.0)
        r = r / r.sum() * with_rows.sum()
    return r, notes


def per_class(np, acc):
    """The per-class table as the JSON holds it (no means for a class without rows)."""
    n, fl = acc["cls_n"], acc["cls_fl"]
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy, ce, mean_fl = acc["cls_ok"] / n, acc["cls_ce"] / n, fl / n
        shares = np.clip(fl / acc["fl"][:, None], 0.0, 1.0)
    shares[~(acc["fl"] > 0)] = 0.0
    out = []
    for c in range(len(n)):
        row = {"class": c, "count": int(n[c])}
        if n[c] > 0:
            row.update(accuracy=accuracy[c], mean_cross_entropy=ce[c], mean_focal_loss=mean_fl[:, c])
        row["share"] = shares[:, c]
        out.append(row)
    return out


def report(np, acc, n, k, gammas, alpha_v, mode, guidance):
    G = len(gammas)
    sigmoid = mode == "sigmoid"
    h_n, h_s = acc["h_n"], acc["h_s"]
    top_ce = top_share(np, h_n[G], h_s[G], n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "rows": n, "classes": k, "mode": mode, "accuracy": acc["correct"] / n, "mean_cross_entropy": acc["ce"] / n,
            "easy_fraction": acc["easy"] / n,
            "sweep": [{"gamma": gm, "mean_focal_loss": acc["fl"][gi] / n,
                       "easy_share": share(acc["fl_easy"][gi], acc["fl"][gi]),
                       "easy_share_ce": share(acc["ce_easy"], acc["ce"]),
                       "top_share_90": top_share(np, h_n[gi], h_s[gi], n), "top_share_90_ce": top_ce}
                      for gi, gm in enumerate(gammas)],
            "per_class": per_class(np, acc),
            "histogram": acc["pt_hist"],
        }
    if not guidance:
        return out
    out["alpha_suggestions"], notes = alpha_suggestions(np, acc["cls_n"])
    with_rows = acc["cls_n"] > 0
    for gi, row in enumerate(out["sweep"]):
        if sigmoid:
            u = acc["cls_u"][gi]
        else:
            share_c = np.clip(acc["cls_fl"][gi] / acc["fl"][gi], 0.0, 1.0) if acc["fl"][gi] > 0 else np.zeros(k)
            u = np.divide(share_c, alpha_v, out=np.zeros(k), where=alpha_v > 0)
        row["balancing_alpha"], more = balancing_alpha(np, u, with_rows, f"at γ = {display(row['gamma'])}")
        notes += more
        pos, pos_easy, neg, neg_easy = acc["grad"][gi]
        row["easy_gradient_share"] = share(pos_easy + neg_easy, pos + neg)
        if sigmoid:
            row["easy_gradient_share_positive"] = share(pos_easy, pos)
            row["easy_gradient_share_negative"] = share(neg_easy, neg)
        row["loss_cdf"] = loss_cdf(np, h_n[gi], h_s[gi], n)
        if sigmoid:
            for side, key in enumerate(("loss_cdf_positives", "loss_cdf_negatives")):
                cnt, sm = acc["side_n"][2 * gi + side], acc["side_s"][2 * gi + side]
                row[key] = loss_cdf(np, cnt, sm, int(cnt.sum()))
    out["guidance_notes"] = notes
    return out
