"""The one registry of the curriculum: every module and topic, in order.

Every tool asks this file for folder names, titles and paths; nothing else hard-codes them.

    >>> from dlfs.curriculum import topic
    >>> topic(2).folder.name
    'Topic 02-Autograd-Engine'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

MODULES = {
    0: "Module 00-Foundations",
    1: "Module 01-Neural-Network-Core",
    2: "Module 02-CNNs",
    3: "Module 03-RNNs-Sequences",
    4: "Module 04-Transformers-Production",
}

# (number, module, folder slug, title, key concept)
_TOPICS = [
    (1, 0, "Tensor-Operations", "Tensor Operations & Broadcasting", "Memory layouts, stride tricks"),
    (2, 0, "Autograd-Engine", "Autograd Engine From Scratch", "Computational graphs, reverse-mode AD"),
    (3, 0, "Optimization-Algorithms", "Optimization Algorithms", "SGD, Momentum, Adam from equations"),
    (4, 1, "Single-Layer-Perceptron", "Single Layer Perceptron", "Binary classification, XOR"),
    (5, 1, "MLP-Forward-Pass", "MLP Forward Pass", "Xavier/Kaiming initialization"),
    (6, 1, "Backpropagation", "Backpropagation Implementation", "Manual chain rule"),
    (7, 1, "Activations-Initialization", "Activations & Initialization", "ReLU variants, dead neurons"),
    (8, 1, "Regularization", "Regularization", "L2, Dropout, early stopping"),
    (9, 1, "Batch-Normalization", "Batch Normalization", "Running stats, train vs eval"),
    (10, 1, "End-to-End-MNIST", "End-to-End MNIST", "98% accuracy in a minute"),
    (11, 2, "Conv2D-Sliding-Window", "Conv2D Sliding Window", "Padding, nested loops"),
    (12, 2, "Im2Col-Vectorization", "Im2Col Vectorization", "Convolution as matmul"),
    (13, 2, "Pooling-Strides", "Pooling & Strides", "Max/avg pooling, mask tracking"),
    (14, 2, "ResNet-Skip-Connections", "ResNet Skip Connections", "Residual blocks"),
    (15, 2, "Modern-Convolutions", "Modern Convolutions", "Depthwise, 1x1, dilated"),
    (16, 2, "Advanced-Normalizations", "Advanced Normalizations", "LayerNorm, GroupNorm, InstanceNorm"),
    (17, 2, "CIFAR10-From-Scratch", "CIFAR-10 From Scratch", "Augmentation, cosine schedule"),
    (18, 3, "Vanilla-RNN", "Vanilla RNN", "BPTT, exploding gradients"),
    (19, 3, "LSTM-Gates", "LSTM Gates", "Cell state, gates"),
    (20, 3, "GRU-Variant", "GRU Variant", "Update and reset gates"),
    (21, 3, "Bidirectional-RNNs-Masking", "Bidirectional RNNs & Masking", "Padding and masks"),
    (22, 3, "Word-Embeddings", "Word Embeddings (Word2Vec Logic)", "Skip-gram, negative sampling"),
    (23, 3, "Seq2Seq-Encoder-Decoder", "Seq2Seq Encoder-Decoder", "Teacher forcing"),
    (24, 3, "Bahdanau-Attention", "Attention Mechanism (Bahdanau)", "Alignment, context vectors"),
    (25, 4, "Efficient-Self-Attention", "Efficient Self-Attention", "O(n^2) attention, causal mask"),
    (26, 4, "Multi-Head-Attention", "Multi-Head Attention", "Splitting heads"),
    (27, 4, "Positional-Encodings", "Positional Encodings", "Sinusoidal, RoPE, relative"),
    (28, 4, "Transformer-Encoder-Block", "Transformer Encoder Block", "Pre-norm vs post-norm"),
    (29, 4, "Transformer-Decoder-Block", "Transformer Decoder Block", "Cross-attention"),
    (30, 4, "Mini-GPT-Training", "Mini-GPT Training", "Sampling, temperature, top-k"),
    (31, 4, "KV-Cache-Optimization", "KV-Cache Optimization", "Cached keys and values"),
    (32, 4, "Modern-Optimizations", "Modern Optimizations", "FlashAttention tiling, checkpointing"),
    (33, 4, "Quantization-Efficiency", "Quantization & Efficiency", "INT8, fake quantization"),
    (34, 4, "Distributed-Training-Logic", "Distributed Training Logic", "Data parallelism, accumulation"),
]

# The four reference solution levels, by number.
LEVELS = {
    1: "level01-naive.py",
    2: "level02-vectorized.py",
    3: "level03-memory-efficient.py",
    4: "level04-pytorch-reference.py",
}
LEVEL_NAMES = {1: "naive", 2: "vectorized", 3: "memory-efficient", 4: "PyTorch reference"}

LEARNER_FILE = "solution.py"
STARTER_FILE = "starter.py"


@dataclass(frozen=True)
class Topic:
    number: int
    module: int
    slug: str
    title: str
    concept: str

    @property
    def module_folder(self) -> str:
        return MODULES[self.module]

    @property
    def folder_name(self) -> str:
        return f"Topic {self.number:02d}-{self.slug}"

    @property
    def folder(self) -> Path:
        return REPO_ROOT / self.module_folder / self.folder_name

    @property
    def tests_dir(self) -> Path:
        return self.folder / "tests"

    @property
    def hints_dir(self) -> Path:
        return self.folder / "hints"

    @property
    def learner_file(self) -> Path:
        return self.folder / LEARNER_FILE

    @property
    def starter_file(self) -> Path:
        return self.folder / STARTER_FILE

    def level_file(self, level: int) -> Path:
        if level not in LEVELS:
            raise ValueError(f"level must be one of {sorted(LEVELS)}, got {level!r}")
        return self.folder / "solutions" / LEVELS[level]

    def hint_files(self) -> list[Path]:
        """Hint files sorted by their number (hint-1-..., hint-2-..., ...)."""
        def number(path: Path) -> int:
            return int(path.stem.split("-")[1])
        return sorted(self.hints_dir.glob("hint-*.md"), key=number)

    @property
    def exists(self) -> bool:
        """True once the topic folder has been written (the curriculum is built topic by topic)."""
        return (self.folder / "README.md").is_file()

    @property
    def track(self) -> str:
        return "Advanced/Optional" if self.number >= 31 else "Core"


TOPICS = [Topic(*row) for row in _TOPICS]
_BY_NUMBER = {t.number: t for t in TOPICS}


def topic(number: int) -> Topic:
    """The topic with this number (1..34); a clear error otherwise."""
    try:
        return _BY_NUMBER[int(number)]
    except (KeyError, ValueError):
        raise ValueError(f"there is no topic {number!r}: topics are numbered 1 to {len(TOPICS)}") from None


def topic_of_path(path: str | Path) -> Topic | None:
    """The topic whose folder contains `path`, or None."""
    path = Path(path).resolve()
    for t in TOPICS:
        if path == t.folder or t.folder in path.parents:
            return t
    return None


def available_topics() -> list[Topic]:
    """Topics whose folders exist in this checkout."""
    return [t for t in TOPICS if t.exists]
