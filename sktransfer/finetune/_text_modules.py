"""Text encoders over an embedding initialised from pretrained word vectors."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

__all__ = ["TextClassifierModule"]

PAD, UNKNOWN = 0, 1


class _Mean(nn.Module):
    """Average of the non-padding token vectors (an empty text averages to zeros)."""

    out_features: int

    def __init__(self, dim: int):
        super().__init__()
        self.out_features = dim

    def forward(self, vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        summed = (vectors * mask.unsqueeze(2)).sum(1)
        return summed / mask.sum(1, keepdim=True).clamp(min=1)


class _KimCNN(nn.Module):
    """Kim (2014): convolutions of several widths, ReLU, max over time, concatenated.

    Windows that hold only padding are left out of the max, so a text's features do not
    depend on how much padding its batch gives it.
    """

    def __init__(self, dim: int, widths: tuple[int, ...] = (3, 4, 5), filters: int = 100):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv1d(dim, filters, w, padding=w - 1) for w in widths)
        self.out_features = filters * len(widths)

    def forward(self, vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = vectors.transpose(1, 2)  # (N, dim, T)
        lengths = mask.sum(1, keepdim=True).clamp(min=1)  # an empty text keeps one window
        pooled = []
        for conv in self.convs:
            out = torch.relu(conv(x))  # (N, filters, T + width - 1), window j ends at token j
            width = conv.kernel_size[0]
            positions = torch.arange(out.shape[2], device=out.device)
            real = (positions < lengths + width - 1).unsqueeze(1)  # ReLU >= 0: 0 never wins
            pooled.append((out * real).amax(2))
        return torch.cat(pooled, dim=1)


class _BiLSTM(nn.Module):
    """Bidirectional LSTM over the real tokens; max over time of both directions."""

    def __init__(self, dim: int, hidden: int = 128):
        super().__init__()
        self.lstm = nn.LSTM(dim, hidden, batch_first=True, bidirectional=True)
        self.out_features = 2 * hidden

    def forward(self, vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        lengths = mask.sum(1).clamp(min=1).long().cpu()
        packed = pack_padded_sequence(vectors, lengths, batch_first=True, enforce_sorted=False)
        output, _ = self.lstm(packed)
        padded, _ = torch.nn.utils.rnn.pad_packed_sequence(
            output, batch_first=True, padding_value=float("-inf"), total_length=vectors.shape[1]
        )
        return padded.amax(1)


ENCODERS = {"mean": _Mean, "cnn": _KimCNN, "bilstm": _BiLSTM}


class TextClassifierModule(nn.Module):
    """Token ids ``(N, T)`` (0 = padding, 1 = unknown) to class logits."""

    def __init__(self, embedding: torch.Tensor, encoder: str, n_classes: int, dropout: float):
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(embedding, freeze=False, padding_idx=PAD)
        self.encoder = ENCODERS[encoder](embedding.shape[1])
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.encoder.out_features, n_classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        # Texts are left-aligned: cut the batch's columns of padding only.
        ids = ids[:, : max(int((ids != PAD).sum(1).max()), 1)]
        mask = (ids != PAD).float()
        # Dropout on the pooled features only, where Kim (2014) puts it.
        return self.head(self.dropout(self.encoder(self.embedding(ids), mask)))
