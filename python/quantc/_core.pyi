"""Type stubs of quantc._core, the nanobind extension over the driver
library (include/quantc/Driver/Plain.h). Use quantc.api, not this module:
every function returns the driver's (status, printed text, error text)
instead of raising."""
from typing import Callable, Dict, List, Optional, Sequence, Tuple

Outcome = Tuple[int, str, str]


class Module:
    @staticmethod
    def open(path: str, shape_inference: bool = True) -> Tuple[Optional["Module"], int, str, str]: ...
    def text(self, elide_weights: bool = False) -> str: ...
    def summary(self) -> str: ...
    def inputs(self) -> List[Tuple[str, int, int, List[int]]]: ...
    def run_passes(self, pipeline: str) -> Outcome: ...
    def save(self, path: str) -> Outcome: ...


class Quantization:
    """A finished quantization: the layers as rounded and the source model."""
    def export_qdq(self, path: str) -> Outcome: ...


def quantize(options: Dict[str, object],
             samples: Optional[Sequence[Sequence[Tuple[str, int, List[int], int]]]] = None,
             progress: Optional[Callable[[str, int, int], None]] = None
             ) -> Tuple[int, str, str, str, Quantization]: ...


def compile(options: Dict[str, object]) -> Outcome: ...


def rotation(n: int, seed: int = 0) -> bytes:
    """qc-fold-rotations' Q (n x n, row-major float64)."""
    ...


def online_hadamard(n: int) -> bytes:
    """qc.hadamard's dense H for width n (n x n float64; empty: none)."""
    ...
