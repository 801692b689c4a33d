"""ProteinMPNN (Dauparas et al. 2022, Science 378:49) as a scorer of single substitutions.

Our own implementation of the published architecture (3 encoder and 3 decoder message-passing
layers, 128 hidden, 48 nearest neighbours by C-alpha distance, backbone N/CA/C/O plus a virtual
C-beta), written to load the authors' released weights (``v_48_020.pt``, MIT; the state-dict
names follow theirs). Only what scoring needs: no sampling, no training, no noise.

``conditional_log_probs`` gives, for each residue ``i`` of one chain, ``log p(a | backbone,
sequence of every other residue)`` over the 21 tokens ``ALPHABET``, with ``i`` decoded LAST in a
random order of the others (the order the ``conditional_probs`` mode of the reference code uses):
position ``i`` sees the native identity of every other residue, its own identity is hidden. The
decoder states of the other residues depend on that order, so the result is averaged over
``n_orders`` seeded orders (``numpy.random.default_rng(seed)``).

torch is imported by this module: install ``structkit[ml]``. Everything runs on the CPU, in
float32, deterministically for a given seed and torch build.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["ALPHABET", "MPNN", "load_mpnn", "conditional_log_probs", "decode_direct"]

ALPHABET = "ACDEFGHIKLMNPQRSTVWYX"  # the model's 21 tokens; X = unknown
HIDDEN = 128
N_RBF = 16
MAX_REL = 32  # relative-position features clipped at +-32 residues
# the 25 atom pairs of the edge features, in the order the weights were trained with
# (0 N, 1 CA, 2 C, 3 O, 4 CB)
PAIRS = [(1, 1), (0, 0), (2, 2), (3, 3), (4, 4), (1, 0), (1, 2), (1, 3), (1, 4), (0, 2), (0, 3),
         (0, 4), (4, 2), (4, 3), (3, 2), (0, 1), (2, 1), (3, 1), (4, 1), (2, 0), (3, 0), (4, 0),
         (2, 4), (3, 4), (2, 3)]


class _FF(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.W_in = nn.Linear(HIDDEN, 4 * HIDDEN)
        self.W_out = nn.Linear(4 * HIDDEN, HIDDEN)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.W_out(nn.functional.gelu(self.W_in(h)))


class _Enc(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        for n in ("norm1", "norm2", "norm3"):
            setattr(self, n, nn.LayerNorm(HIDDEN))
        self.W1, self.W11 = nn.Linear(3 * HIDDEN, HIDDEN), nn.Linear(3 * HIDDEN, HIDDEN)
        self.W2, self.W12 = nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, HIDDEN)
        self.W3, self.W13 = nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, HIDDEN)
        self.dense = _FF()

    def forward(self, h_v, h_e, nbr):
        """h_v [L, H], h_e [L, K, H], nbr [L, K] -> updated (h_v, h_e)."""
        gelu = nn.functional.gelu

        def edges(h):
            return torch.cat([h[:, None].expand(-1, nbr.shape[1], -1), h_e, h[nbr]], -1)

        msg = self.W3(gelu(self.W2(gelu(self.W1(edges(h_v))))))
        h_v = self.norm1(h_v + msg.sum(1) / 30.0)
        h_v = self.norm2(h_v + self.dense(h_v))
        h_e = self.norm3(h_e + self.W13(gelu(self.W12(gelu(self.W11(edges(h_v)))))))
        return h_v, h_e


class _Dec(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(HIDDEN), nn.LayerNorm(HIDDEN)
        self.W1 = nn.Linear(4 * HIDDEN, HIDDEN)  # input [h_i, h_ij, s_j, h_j]
        self.W2, self.W3 = nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, HIDDEN)
        self.dense = _FF()

    def finish(self, h_v, pre):
        """The layer after W1's pre-activation ``pre`` [..., L, K, H]."""
        gelu = nn.functional.gelu
        msg = self.W3(gelu(self.W2(gelu(pre))))
        h_v = self.norm1(h_v + msg.sum(-2) / 30.0)
        return self.norm2(h_v + self.dense(h_v))


class _PosEnc(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2 * MAX_REL + 2, 16)


class _Features(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embeddings = _PosEnc()
        self.edge_embedding = nn.Linear(16 + 25 * N_RBF, HIDDEN, bias=False)
        self.norm_edges = nn.LayerNorm(HIDDEN)


class MPNN(nn.Module):
    """The ProteinMPNN network (vanilla, full backbone). ``k``: neighbours per residue."""

    def __init__(self, k: int = 48) -> None:
        super().__init__()
        self.k = k
        self.features = _Features()
        self.W_e = nn.Linear(HIDDEN, HIDDEN)
        self.W_s = nn.Embedding(21, HIDDEN)
        self.encoder_layers = nn.ModuleList([_Enc() for _ in range(3)])
        self.decoder_layers = nn.ModuleList([_Dec() for _ in range(3)])
        self.W_out = nn.Linear(HIDDEN, 21)

    # -- structure -> graph ----------------------------------------------------------------
    def edges(self, xyz: torch.Tensor, resid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Edge embeddings [L, K, H] and neighbour indices [L, K] of one chain: ``xyz`` [L, 4, 3]
        (N, CA, C, O in A), ``resid`` [L] residue indices (gaps kept)."""
        n, ca, c = xyz[:, 0], xyz[:, 1], xyz[:, 2]
        b, cc = ca - n, c - ca
        cb = -0.58273431 * torch.cross(b, cc, dim=-1) + 0.56802827 * b - 0.54067466 * cc + ca
        atoms = torch.cat([xyz, cb[:, None]], 1)  # [L, 5, 3]
        d_ca = torch.sqrt(((ca[:, None] - ca[None]) ** 2).sum(-1) + 1e-6)
        k = min(self.k, len(xyz))
        _, nbr = torch.topk(d_ca, k, dim=-1, largest=False)
        mu = torch.linspace(2.0, 22.0, N_RBF)
        sigma = (22.0 - 2.0) / N_RBF
        rbf = []
        for a, bb in PAIRS:
            d = torch.sqrt(((atoms[:, None, a] - atoms[nbr][:, :, bb]) ** 2).sum(-1) + 1e-6)
            rbf.append(torch.exp(-(((d[..., None] - mu) / sigma) ** 2)))
        offset = (resid[:, None] - resid[nbr]).long()
        pos = torch.clamp(offset + MAX_REL, 0, 2 * MAX_REL)  # one chain: always 'same chain'
        e_pos = self.features.embeddings.linear(nn.functional.one_hot(pos, 2 * MAX_REL + 2).float())
        e = self.features.edge_embedding(torch.cat([e_pos, *rbf], -1))
        return self.W_e(self.features.norm_edges(e)), nbr

    def encode(self, xyz: torch.Tensor, resid: torch.Tensor):
        """(node states [L, H], edge states [L, K, H], neighbours [L, K])."""
        h_e, nbr = self.edges(xyz, resid)
        h_v = torch.zeros(len(xyz), HIDDEN)
        for layer in self.encoder_layers:
            h_v, h_e = layer(h_v, h_e, nbr)
        return h_v, h_e, nbr


def load_mpnn(path: str) -> MPNN:
    """The network with the weights of a ProteinMPNN checkpoint (``torch.load`` with
    ``weights_only=True``: tensors only, no pickled code)."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model = MPNN(k=int(ckpt.get("num_edges", 48)))
    model.load_state_dict(ckpt["model_state_dict"])
    return model.eval()


def _before(order_rank: np.ndarray, nbr: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """[B, L, K] 1.0 where neighbour ``nbr[q, k]`` is decoded before residue ``q`` when residue
    ``targets[b]`` is moved to the end of the order ``order_rank`` (rank of each residue)."""
    base = order_rank[nbr] < order_rank[:, None]  # [L, K], p before q
    out = np.broadcast_to(base, (len(targets), *base.shape)).copy()
    for b, t in enumerate(targets):
        out[b] &= nbr != t  # the target is last: before nobody
        out[b, t] = nbr[t] != t  # ... and sees everyone else
    return out.astype(np.float32)


@torch.no_grad()
def conditional_log_probs(model: MPNN, xyz: np.ndarray, seq: np.ndarray, resid: np.ndarray,
                          n_orders: int = 2, seed: int = 0, batch: int | None = None,
                          progress=None, targets: np.ndarray | None = None) -> np.ndarray:
    """[L, 21] mean over ``n_orders`` decoding orders of ``log p(token | backbone, all other
    residues' native tokens)`` at each residue, the residue decoded last (module docstring).

    ``xyz`` [L, 4, 3] N/CA/C/O (A), ``seq`` [L] token indices into ``ALPHABET``, ``resid`` [L]
    residue indices (author numbering; gaps kept). ``progress(n)`` is called after each batch.
    ``targets``: score only these residue indices (0-based; other rows NaN); the orders do not
    depend on it, so a subset gives the same numbers as the full run. ``batch``: target residues
    decoded together (default: as many as keep one [batch, L, K, H] tensor near 64 MB).
    """
    x = torch.as_tensor(np.asarray(xyz, dtype=np.float32))
    s = torch.as_tensor(np.asarray(seq, dtype=np.int64))
    h_enc, h_e, nbr_t = model.encode(x, torch.as_tensor(np.asarray(resid, dtype=np.int64)))
    nbr = nbr_t.numpy()
    n = len(x)
    if batch is None:  # memory grows with batch x L x K x H floats, several tensors at a time
        batch = int(max(1, min(16, (64 << 20) // (4 * n * nbr.shape[1] * HIDDEN))))
    terms = _layer_terms(model, h_enc, h_e, nbr_t, s)
    rng = np.random.default_rng(seed)
    todo = np.arange(n) if targets is None else np.unique(np.asarray(targets, dtype=np.int64))
    out = np.zeros((n, 21), dtype=np.float64)
    for _ in range(n_orders):
        rank = np.empty(n, dtype=np.int64)
        rank[rng.permutation(n)] = np.arange(n)
        for start in range(0, len(todo), batch):
            tb = todo[start:start + batch]
            lp = _decode(model, h_enc, nbr_t, terms, torch.as_tensor(_before(rank, nbr, tb)), tb)
            out[tb] += lp[np.arange(len(tb)), tb].numpy()
            if progress is not None:
                progress(len(tb))
    out /= n_orders
    if targets is not None:
        rest = np.ones(n, dtype=bool)
        rest[todo] = False
        out[rest] = np.nan
    return out


def _layer_terms(model: MPNN, h_enc, h_e, nbr, s) -> list[tuple]:
    """Per decoder layer, the parts of W1's pre-activation that do not depend on the decoding
    order: edge term + bias, the encoder's and the sequence's neighbour terms ([L, K, H] each),
    and the weight blocks of the node terms. Computed once per chain."""
    h_s = model.W_s(s)
    out = []
    for layer in model.decoder_layers:
        w = layer.W1.weight
        wi, we, ws, wj = (w[:, i * HIDDEN:(i + 1) * HIDDEN] for i in range(4))
        out.append((h_e @ we.T + layer.W1.bias, (h_enc @ wj.T)[nbr], (h_s @ ws.T)[nbr], wi, wj))
    return out


def _decode(model: MPNN, h_enc, nbr, terms, before, targets: np.ndarray) -> torch.Tensor:
    """Log-probabilities [B, L, 21] of the decoder for a batch of masks ``before`` [B, L, K];
    only the rows of ``targets`` are final (the others are not needed and not finished).

    W1 of each decoder layer is applied in parts (its input is the concatenation [h_i, h_ij,
    s_j, h_j] with s_j and the decoder's h_j only for neighbours decoded before, the encoder's
    h_j otherwise): node terms are projected once per node and gathered, the same sum as
    projecting the concatenation per edge (``decode_direct`` does it that way). Each layer is
    computed only where the next needs it: the targets at the last layer, them and their
    neighbours before, and those rows' neighbours too at the first (a target's output depends
    on nothing further away)."""
    nb = nbr.numpy()
    last = np.unique(targets)
    mid = np.union1d(last, nb[last].ravel())
    rows = [np.union1d(mid, nb[mid].ravel()), mid, last]
    h_v = h_enc.expand(before.shape[0], -1, -1)
    for layer, (edge, enc_j, seq_j, wi, wj), r in zip(model.decoder_layers, terms, rows, strict=True):
        rt = torch.as_tensor(r)
        m = before[:, rt, :, None]
        dec_j = (h_v @ wj.T)[:, nbr[rt]]  # [B, R, K, H]
        own = h_v[:, rt]
        pre = (own @ wi.T)[:, :, None] + edge[rt] + m * (seq_j[rt] + dec_j) + (1 - m) * enc_j[rt]
        h_v = h_v.clone()
        h_v[:, rt] = layer.finish(own, pre)
    return torch.log_softmax(model.W_out(h_v), -1)


@torch.no_grad()
def decode_direct(model: MPNN, xyz: np.ndarray, seq: np.ndarray, resid: np.ndarray,
                  decoded_before: np.ndarray) -> np.ndarray:
    """[L, 21] log-probabilities of one teacher-forced pass, written as the reference code
    writes it (concatenate the edge inputs, then W1), for a full [L, L] matrix
    ``decoded_before[q, p]`` (residue p decoded before q). The check of ``_decode``."""
    x = torch.as_tensor(np.asarray(xyz, dtype=np.float32))
    s = torch.as_tensor(np.asarray(seq, dtype=np.int64))
    h_enc, h_e, nbr = model.encode(x, torch.as_tensor(np.asarray(resid, dtype=np.int64)))
    m = torch.gather(torch.as_tensor(decoded_before, dtype=torch.float32), 1, nbr)[..., None]
    h_s = model.W_s(s)
    enc_ctx = torch.cat([h_e, torch.zeros_like(h_e), h_enc[nbr]], -1)
    h_v = h_enc
    for layer in model.decoder_layers:
        ctx = m * torch.cat([h_e, h_s[nbr], h_v[nbr]], -1) + (1 - m) * enc_ctx
        full = torch.cat([h_v[:, None].expand(-1, nbr.shape[1], -1), ctx], -1)
        h_v = layer.finish(h_v, layer.W1(full))
    return torch.log_softmax(model.W_out(h_v), -1).numpy()
