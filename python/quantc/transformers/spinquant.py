"""A residual-stream rotation learned on the quantized model's loss
(SpinQuant's R1, Liu et al. 2024), for `quantc quantize --recipe ...-rot
--rotation-matrix R.npy` to fold in place of the randomized Hadamard.

Needs PyTorch: run it with .venv-torch (scripts/bootstrap-torch).

    PYTHONPATH=python .venv-torch/bin/python -m quantc.transformers.spinquant MODEL.gguf CALIB_DIR OUT.npy \\
        [--steps 100] [--lr 1.5] [--batch 2] [--group 64] [--clip 0.9] [--keep-head]

What is learned and how:

  * The model is SmolLM2 from its GGUF (quantc.transformers.smollm2's
    weights), in float, with 4-bit activations simulated the way `w4a4-gN-ag`
    rounds them at run time: every MatMul input row rounded per group of
    G channels to 15 levels on [c min(0, min), c max(0, max)] of the
    group (c = --clip), the values beyond saturating. Weights stay float
    (GPTQ rounds them after the rotation is folded; SpinQuant learns its
    rotations the same way when GPTQ follows).
  * The stream rotation Q (D x D, orthogonal) enters only where a norm's
    output is rounded: a reader of the stream sees round(x Q) Q^T instead
    of x (x = the RMSNorm output before gamma; Q^T diag(gamma) W is what
    qc-fold-rotations folds, so this is the same product). The writers'
    inputs are rounded after the fixed online Hadamard of the recipe
    (quantc._core.online_hadamard): round(x H) H^T.
  * Rounding passes gradients straight through (STE); the loss is the
    next-token cross-entropy on the calibration windows.
  * Q starts at qc-fold-rotations' randomized Hadamard (seed 0) and moves
    on the orthogonal group by Cayley SGD: with G = dL/dQ, the skew
    matrix A = G Q^T - Q G^T and Q <- (I + lr/2 A)^-1 (I - lr/2 A) Q, which
    keeps Q orthogonal to rounding error at every step (G may carry
    --momentum: G_t = dL/dQ + momentum G_{t-1}).

  * `--method procrustes` instead (DFRot-style, no gradients): the
    readers' inputs captured once from the float model, then alternately
    Z = round(X Q) and Q = the orthogonal Procrustes solution of X Q ~ Z.

On SmolLM2 neither beat the Hadamard on held-out calibration windows
(docs/accuracy.md, session 19): an experiment tool, not a default.

Writes OUT.npy (float64 [D, D]) and prints the loss as it goes, then the
loss on --check calibration windows held out of training with the
Hadamard, with the learned Q, and in float.
"""
import argparse
import glob
import os
import sys
import time

import numpy as np


def _torch():
    try:
        import torch
    except ImportError:
        sys.exit("spinquant: PyTorch is not installed here; run scripts/bootstrap-torch and use "
                 ".venv-torch/bin/python")
    return torch


def fake_quant_rows(torch, x, group, clip, levels=15):
    """x rounded as qc.dynamic_quantize_rows {levels, clip} rounds each
    group of `group` channels of each row, back in float; gradients pass
    straight through."""
    shape = x.shape
    k = shape[-1]
    g = group if group > 0 and k % group == 0 else k
    xs = x.reshape(-1, k // g, g)
    with torch.no_grad():
        lo = torch.clamp(xs.amin(-1, keepdim=True), max=0.0) * clip
        hi = torch.clamp(xs.amax(-1, keepdim=True), min=0.0) * clip
        scale = (hi - lo) / levels
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        zp = torch.clamp(torch.round(-lo / scale), 0, levels)
        q = (torch.clamp(torch.round(xs / scale) + zp, 0, levels) - zp) * scale
    return (xs + (q - xs).detach()).reshape(shape)


class Model:
    """SmolLM2 in float with simulated 4-bit activations (see the module
    doc); Q is an argument of forward so that its gradient can be taken."""

    def __init__(self, torch, w, cfg, group, clip, keep_head):
        from quantc import _native
        core = _native.load()
        t = lambda a: torch.from_numpy(np.ascontiguousarray(a, np.float32))
        self.torch, self.cfg, self.group, self.clip, self.keep_head = torch, cfg, group, clip, keep_head
        d, f = cfg["hidden"], cfg["ffn"]
        hd = lambda n: t(np.frombuffer(core.online_hadamard(n), np.float64).reshape(n, n))
        self.h_o, self.h_down = hd(d), hd(f)
        self.emb = t(w["token_embd.weight"])
        head = w.get("output.weight", w["token_embd.weight"])
        self.head = t(head * w["output_norm.weight"][None, :])
        self.layers = []
        for i in range(cfg["layers"]):
            p = "blk.%d." % i
            g1, g2 = w[p + "attn_norm.weight"][None, :], w[p + "ffn_norm.weight"][None, :]
            qkv = np.concatenate([w[p + "attn_q.weight"], w[p + "attn_k.weight"], w[p + "attn_v.weight"]]) * g1
            gu = np.concatenate([w[p + "ffn_gate.weight"], w[p + "ffn_up.weight"]]) * g2
            # Writers take the online Hadamard on their input side: W H.
            o = t(w[p + "attn_output.weight"]) @ self.h_o
            down = t(w[p + "ffn_down.weight"]) @ self.h_down
            self.layers.append((t(qkv), o, t(gu), down))
        dh = cfg["head_dim"]
        inv = 1.0 / cfg["theta"] ** (np.arange(0, dh, 2, dtype=np.float64) / dh)
        self.inv_freq = t(inv)
        self.capture = None

    def rms(self, x):
        return x * self.torch.rsqrt((x * x).mean(-1, keepdim=True) + self.cfg["eps"])

    def rounded(self, x):
        return fake_quant_rows(self.torch, x, self.group, self.clip) if self.rounding else x

    def read(self, x, q):
        """A stream reader's input: the norm output rounded in the rotated
        basis, back in the model's (kept in `capture` when that is a list)."""
        if self.capture is not None:
            self.capture.append(x.detach().reshape(-1, x.shape[-1]))
        return self.rounded(x @ q) @ q.T if self.rounding else x

    def forward(self, ids, q, labels, rounded=True):
        torch, cfg = self.torch, self.cfg
        self.rounding = rounded
        nh, nkv, dh = cfg["heads"], cfg["kv_heads"], cfg["head_dim"]
        b, s = ids.shape
        h = self.emb[ids]
        pos = torch.arange(s, dtype=torch.float32)
        freqs = pos[:, None] * self.inv_freq[None, :]
        emb = torch.cat([freqs, freqs], -1)
        cos, sin = emb.cos(), emb.sin()

        def rope(x):
            half = dh // 2
            rot = torch.cat([-x[..., half:], x[..., :half]], -1)
            return x * cos + rot * sin
        mask = torch.full((s, s), float("-inf")).triu(1)
        for qkv, o, gu, down in self.layers:
            x = self.read(self.rms(h), q)
            y = x @ qkv.T
            qh = y[..., :nh * dh].reshape(b, s, nh, dh).transpose(1, 2)
            kh = y[..., nh * dh:(nh + nkv) * dh].reshape(b, s, nkv, dh).transpose(1, 2)
            vh = y[..., (nh + nkv) * dh:].reshape(b, s, nkv, dh).transpose(1, 2)
            qh, kh = rope(qh), rope(kh)
            rep = nh // nkv
            kh, vh = kh.repeat_interleave(rep, 1), vh.repeat_interleave(rep, 1)
            a = torch.softmax(qh @ kh.transpose(-1, -2) / np.sqrt(dh) + mask, -1)
            ctx = (a @ vh).transpose(1, 2).reshape(b, s, nh * dh)
            h = h + self.rounded(ctx @ self.h_o) @ o.T
            x = self.read(self.rms(h), q)
            gate, up = (x @ gu.T).chunk(2, -1)
            act = torch.nn.functional.silu(gate) * up
            h = h + self.rounded(act @ self.h_down) @ down.T
        x = self.rms(h)
        if not self.keep_head:
            x = self.read(x, q)
        logits = x @ self.head.T
        return torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                                 labels[:, 1:].reshape(-1))


def procrustes(torch, model, batches, q0, iters, group, clip):
    """--method procrustes (DFRot-style, no gradients): the stream readers'
    inputs X (every site's normalized rows, float model) captured once,
    then alternately Z = round(X Q) and Q = argmin_{orthogonal} ||X Q - Z||
    = U V^T for X^T Z = U S V^T, the rounding error of the rotated rows
    printed as it goes."""
    model.capture = []
    with torch.no_grad():
        for ids in batches:
            model.forward(ids, q0.float(), ids, rounded=False)
    x = torch.cat(model.capture).double()
    model.capture = None
    q = q0.clone()
    print("spinquant: procrustes on %d rows of %d reader sites" % (x.shape[0], x.shape[0] // (
        batches[0].numel() * len(batches))), flush=True)
    for it in range(iters + 1):
        y = x @ q
        z = fake_quant_rows(torch, y, group, clip)
        err = float(((z - y) ** 2).sum() / (y ** 2).sum())
        if it % 5 == 0 or it == iters:
            print("  iteration %3d  rounding error %.5f of the rows' energy" % (it, err), flush=True)
        if it == iters:
            break
        u, _, vh = torch.linalg.svd(x.T @ z)
        q = u @ vh
    return q


def cayley_step(torch, q, grad, lr):
    """One Cayley SGD step on the orthogonal group (see the module doc);
    returns the new Q and the step's size, ||lr A||_F."""
    a = grad @ q.T - q @ grad.T
    eye = torch.eye(q.shape[0], dtype=q.dtype)
    return torch.linalg.solve(eye + 0.5 * lr * a, (eye - 0.5 * lr * a) @ q), float(lr * a.norm())


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m quantc.transformers.spinquant",
                                 description="learn SmolLM2's residual rotation for 4-bit activations")
    ap.add_argument("gguf")
    ap.add_argument("calib", help="calibration samples: DIR/NNNN/input_ids.npy")
    ap.add_argument("out", help="where the rotation goes (.npy, float64 [D, D])")
    ap.add_argument("--method", choices=("cayley", "procrustes"), default="cayley",
                    help="cayley: SpinQuant's loss-driven learning; procrustes: the readers' "
                         "rounding error, alternating (--batch windows, --steps iterations)")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--lr", type=float, default=1.5)
    ap.add_argument("--batch", type=int, default=2, help="windows per step")
    ap.add_argument("--momentum", type=float, default=0.0,
                    help="heavy-ball momentum on the gradient (projected by the Cayley step)")
    ap.add_argument("--group", type=int, default=64, help="activation group (the recipe's -gN-ag; 0: rows)")
    ap.add_argument("--clip", type=float, default=0.9, help="activation clip (--activation-clip)")
    ap.add_argument("--keep-head", action="store_true", help="the head's input not rounded (--keep-float lm_head)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--check", type=int, default=4,
                    help="windows held out of training, the loss compared on them at the end")
    a = ap.parse_args(argv)
    torch = _torch()
    if a.threads:
        torch.set_num_threads(a.threads)
    from quantc import _native
    from quantc.transformers.smollm2 import load_gguf
    files = sorted(glob.glob(os.path.join(a.calib, "*", "input_ids.npy")))
    if not files:
        sys.exit("spinquant: no DIR/NNNN/input_ids.npy under %s" % a.calib)
    if not (0 < a.clip <= 1):
        sys.exit("spinquant: --clip must be in (0, 1]")
    windows = [np.load(f).reshape(-1) for f in files]
    w, cfg, _ = load_gguf(a.gguf)
    model = Model(torch, w, cfg, a.group, a.clip, a.keep_head)
    d = cfg["hidden"]
    q0 = torch.from_numpy(np.frombuffer(_native.load().rotation(d, 0), np.float64).reshape(d, d).copy())
    q = q0.clone()
    rng = np.random.default_rng(a.seed)
    perm = rng.permutation(len(windows))
    # The last --check windows are held out of training: the loss is
    # compared on them at the end.
    if not (0 <= a.check < len(windows)):
        sys.exit("spinquant: --check must leave some of the %d windows to train on" % len(windows))
    order, held = perm[:len(perm) - a.check], perm[len(perm) - a.check:]
    print("spinquant: %d calibration windows of %d tokens, D = %d, %d steps of %d windows, lr %g, "
          "activations in groups of %d clipped at %g%s" % (len(windows), len(windows[0]), d, a.steps, a.batch,
                                                           a.lr, a.group, a.clip,
                                                           ", head not rounded" if a.keep_head else ""))
    losses = []
    mom = None
    t0 = time.time()
    if a.method == "procrustes":
        batches = [torch.from_numpy(windows[i][None].astype(np.int64)) for i in order[:a.batch]]
        q = procrustes(torch, model, batches, q0, a.steps, a.group, a.clip)
    for step in range(a.steps if a.method == "cayley" else 0):
        idx = [order[(step * a.batch + j) % len(order)] for j in range(a.batch)]
        ids = torch.from_numpy(np.stack([windows[i] for i in idx]).astype(np.int64))
        qv = q.float().requires_grad_(True)
        loss = model.forward(ids, qv, ids)
        loss.backward()
        if not torch.isfinite(loss):
            sys.exit("spinquant: the loss is %s at step %d (lower --lr)" % (loss.item(), step))
        g = qv.grad.double()
        mom = g if mom is None else a.momentum * mom + g
        q, size = cayley_step(torch, q, mom, a.lr)
        losses.append(loss.item())
        if step % 10 == 0 or step == a.steps - 1:
            print("  step %4d  loss %.4f  (mean of the last 10: %.4f)  step size %.3g  %.1f s" %
                  (step, losses[-1], float(np.mean(losses[-10:])), size, time.time() - t0), flush=True)
    err = (q.T @ q - torch.eye(d, dtype=q.dtype)).abs().max().item()
    # The held-out windows with the starting Hadamard and the result.
    if len(held):
        with torch.no_grad():
            ids = torch.from_numpy(np.stack([windows[i] for i in held]).astype(np.int64))
            before = model.forward(ids, q0.float(), ids).item()
            after = model.forward(ids, q.float(), ids).item()
            fl = model.forward(ids, q.float(), ids, rounded=False).item()
        print("spinquant: loss on %d held-out calibration windows %.4f with the Hadamard -> %.4f learned "
              "(float: %.4f)" % (len(held), before, after, fl))
    print("spinquant: max |Q^T Q - I| %.1e" % err)
    np.save(a.out, q.numpy())
    print("spinquant: wrote", a.out)


if __name__ == "__main__":
    main()
