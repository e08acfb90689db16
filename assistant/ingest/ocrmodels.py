"""The PP-OCRv4 models: the wheel's own, or copies of them rewritten for speed at set-up.

The rewrite changes how the same arithmetic is laid out, not the arithmetic (outputs equal
the wheel's models' to float rounding; `build` checks it). The models were exported from
Paddle with every activation and every learnable affine spelled out as separate
element-wise operators, which onnxruntime runs one pass over the feature map each: half of
the recogniser's time (profiled: benchmarks/README.md, "OCR speed"). `build`:

- turns `x * clip(x + 3, 0, 6) / 6` into one HardSwish (opset 14), which onnxruntime then
  fuses into the convolution before it;
- folds a scalar affine right after a convolution (`conv(x) * a + b`) into that
  convolution's weights and bias;
- folds a scalar affine right before a 1×1 convolution without padding
  (`conv(x * c + d)`) into it (exact: no padding sees the affine's zero).

`scripts/setup.sh` runs it (`brand-assistant ocr-models`); it needs the `onnx` package, not
any download. Until it has run, or when the wheel's models changed since, the wheel's own
models are used (slower, same results).
"""

from __future__ import annotations

import hashlib
import json
import logging
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

DET = "ch_PP-OCRv4_det_infer.onnx"
REC = "ch_PP-OCRv4_rec_infer.onnx"
REWRITE_VERSION = 1


def wheel_models() -> Path:
    import rapidocr_onnxruntime

    return Path(rapidocr_onnxruntime.__file__).parent / "models"


def default_dir() -> Path:
    from assistant.settings import get_settings

    return Path(get_settings().ocr_model_dir)


@lru_cache(maxsize=8)
def _sha256(path: Path, size: int, mtime: float) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _digest(path: Path) -> str:
    st = path.stat()
    return _sha256(path, st.st_size, st.st_mtime)


def built_paths(model_dir: Path) -> tuple[Path, Path]:
    return model_dir / f"det-v{REWRITE_VERSION}.onnx", model_dir / f"rec-v{REWRITE_VERSION}.onnx"


def is_built(model_dir: Path | None = None) -> bool:
    model_dir = model_dir or default_dir()
    det, rec = built_paths(model_dir)
    try:
        manifest = json.loads((model_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    src = wheel_models()
    return (det.exists() and rec.exists() and manifest.get("version") == REWRITE_VERSION
            and manifest.get("det") == _digest(src / DET) and manifest.get("rec") == _digest(src / REC))


_warned = False


def model_paths(kind: str = "optimized", model_dir: Path | None = None) -> tuple[Path, Path]:
    """Detection and recognition model files: "optimized" (built by `build`; the wheel's own
    while it has not been built) or "wheel"."""
    global _warned
    src = wheel_models()
    if kind == "optimized":
        model_dir = model_dir or default_dir()
        if is_built(model_dir):
            return built_paths(model_dir)
        if not _warned:
            log.warning("OCR: rewritten models not built in %s (brand-assistant ocr-models); using the wheel's "
                        "models, about twice as slow", model_dir)
            _warned = True
    return src / DET, src / REC


# --- the rewrite (needs the onnx package) ------------------------------------------------------

def _constants_to_initializers(model) -> None:
    from onnx import numpy_helper

    g = model.graph
    keep = []
    for n in g.node:
        if n.op_type == "Constant" and len(n.attribute) == 1 and n.attribute[0].name == "value":
            g.initializer.append(numpy_helper.from_array(numpy_helper.to_array(n.attribute[0].t), n.output[0]))
        else:
            keep.append(n)
    g.ClearField("node")
    g.node.extend(keep)


class _Graph:
    """Helpers over an ONNX graph whose constants are initializers."""

    def __init__(self, model) -> None:
        self.g = model.graph
        self.refresh()

    def refresh(self) -> None:
        from onnx import numpy_helper

        self.init = {i.name: i for i in self.g.initializer}
        self._np = numpy_helper
        self.by_out = {o: n for n in self.g.node for o in n.output}
        self.uses: dict[str, int] = {}
        for n in self.g.node:
            for i in n.input:
                self.uses[i] = self.uses.get(i, 0) + 1
        for o in self.g.output:
            self.uses[o.name] = self.uses.get(o.name, 0) + 1

    def array(self, name: str):
        return self._np.to_array(self.init[name]) if name in self.init else None

    def scalar(self, name: str) -> float | None:
        a = self.array(name)
        return float(a.reshape(-1)[0]) if a is not None and a.size == 1 else None

    def add_init(self, array, name: str) -> str:
        import numpy as np

        self.g.initializer.append(self._np.from_array(np.asarray(array, dtype=np.float32), name))
        self.init[name] = self.g.initializer[-1]
        return name

    def only_use(self, name: str) -> bool:
        return self.uses.get(name, 0) == 1

    def consumer(self, name: str):
        found = [n for n in self.g.node if name in n.input]
        return found[0] if len(found) == 1 and self.only_use(name) else None

    def conv_params(self, conv):
        """(weights, bias) of a Conv whose weights and bias are constants, as float32; None
        otherwise (a Conv without a bias gets zeros)."""
        import numpy as np

        if conv.op_type != "Conv" or conv.input[1] not in self.init or (len(conv.input) > 2 and conv.input[2] not in self.init):
            return None
        w = self.array(conv.input[1]).astype(np.float32)
        bias = self.array(conv.input[2]).astype(np.float32) if len(conv.input) > 2 else np.zeros(w.shape[0], np.float32)
        return w, bias

    def folded_conv(self, conv, x: str, outputs: list[str], w, bias, suffix: str):
        """A Conv with conv's attributes over x, with new constant weights and bias."""
        from onnx import helper

        wn = self.add_init(w, conv.output[0] + f"/w_{suffix}")
        bn = self.add_init(bias, conv.output[0] + f"/b_{suffix}")
        node = helper.make_node("Conv", [x, wn, bn], outputs, name=conv.output[0] + f"/{suffix}")
        node.attribute.extend(conv.attribute)
        return node

    def scalar_operand(self, node) -> tuple[str | None, float | None]:
        """(the tensor input, the scalar constant) of a binary node with one scalar constant."""
        a, b = node.input[0], node.input[1]
        if self.scalar(b) is not None and a not in self.init:
            return a, self.scalar(b)
        if self.scalar(a) is not None and b not in self.init:
            return b, self.scalar(a)
        return None, None

    def replace(self, drop: set[int], new: dict[int, object]) -> None:
        nodes = [new.get(id(n), n) for n in self.g.node if id(n) not in drop or id(n) in new]
        self.g.ClearField("node")
        self.g.node.extend(nodes)
        self.refresh()


def _hardswish(gr: _Graph) -> int:
    from onnx import helper

    drop: set[int] = set()
    new: dict[int, object] = {}
    for div in list(gr.g.node):
        if div.op_type != "Div" or gr.scalar(div.input[1]) != 6.0:
            continue
        mul = gr.by_out.get(div.input[0])
        if mul is None or mul.op_type != "Mul" or not gr.only_use(mul.output[0]):
            continue
        for x, other in ((mul.input[0], mul.input[1]), (mul.input[1], mul.input[0])):
            clip = gr.by_out.get(other)
            if clip is None or clip.op_type != "Clip" or len(clip.input) < 3 or not gr.only_use(clip.output[0]):
                continue
            if gr.scalar(clip.input[1]) != 0.0 or gr.scalar(clip.input[2]) != 6.0:
                continue
            add = gr.by_out.get(clip.input[0])
            if add is None or add.op_type != "Add" or not gr.only_use(add.output[0]):
                continue
            if gr.scalar_operand(add) != (x, 3.0):
                continue
            drop |= {id(add), id(clip), id(mul), id(div)}
            new[id(div)] = helper.make_node("HardSwish", [x], [div.output[0]], name=div.output[0] + "/hardswish")
            break
    gr.replace(drop, new)
    return len(new)


def _conv_then_affine(gr: _Graph) -> int:
    drop: set[int] = set()
    new: dict[int, object] = {}
    for conv in list(gr.g.node):
        params = gr.conv_params(conv)
        if params is None:
            continue
        mul = gr.consumer(conv.output[0])
        if mul is None or mul.op_type != "Mul" or id(mul) in drop:
            continue
        x, a = gr.scalar_operand(mul)
        if x != conv.output[0]:
            continue
        last, b = mul, 0.0
        add = gr.consumer(mul.output[0])
        if add is not None and add.op_type == "Add":
            y, bb = gr.scalar_operand(add)
            if y == mul.output[0]:
                last, b = add, bb
        w, bias = params
        new[id(conv)] = gr.folded_conv(conv, conv.input[0], [last.output[0]], w * a, bias * a + b, "folded")
        drop |= {id(mul), id(last)}
    gr.replace(drop, new)
    return len(new)


def _affine_then_pointwise(gr: _Graph) -> int:
    drop: set[int] = set()
    new: dict[int, object] = {}
    for conv in list(gr.g.node):
        params = gr.conv_params(conv)
        if params is None:
            continue
        w, bias = params
        attrs = {a.name: a for a in conv.attribute}
        pads = list(attrs["pads"].ints) if "pads" in attrs else []
        group = attrs["group"].i if "group" in attrs else 1
        auto = attrs["auto_pad"].s.decode() if "auto_pad" in attrs else "NOTSET"
        if w.shape[2:] != (1, 1) or any(pads) or group != 1 or auto not in ("NOTSET", "VALID"):
            continue
        add = gr.by_out.get(conv.input[0])
        if add is None or add.op_type != "Add" or not gr.only_use(add.output[0]) or id(add) in drop:
            continue
        src, d = gr.scalar_operand(add)
        mul = gr.by_out.get(src) if src else None
        if mul is None or mul.op_type != "Mul" or not gr.only_use(mul.output[0]):
            continue
        x, c = gr.scalar_operand(mul)
        if x is None:
            continue
        new[id(conv)] = gr.folded_conv(conv, x, list(conv.output), w * c, bias + d * w.sum(axis=(1, 2, 3)), "pre")
        drop |= {id(add), id(mul)}
    gr.replace(drop, new)
    return len(new)


def rewrite(src: Path, dst: Path) -> dict:
    """The rewritten copy of one model (see the module doc); counts of what was rewritten."""
    import onnx
    from onnx import version_converter

    model = onnx.load(str(src))
    _constants_to_initializers(model)
    model = version_converter.convert_version(model, 14)
    gr = _Graph(model)
    counts = {"hardswish": _hardswish(gr), "conv_affine": _conv_then_affine(gr),
              "affine_pointwise": _affine_then_pointwise(gr)}
    used = {i for n in model.graph.node for i in n.input}
    keep = [i for i in model.graph.initializer if i.name in used]
    model.graph.ClearField("initializer")
    model.graph.initializer.extend(keep)
    onnx.checker.check_model(model)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".tmp")
    onnx.save(model, str(tmp))
    tmp.replace(dst)
    return counts


def _max_difference(a: Path, b: Path, shape: tuple[int, ...]) -> float:
    import numpy as np
    import onnxruntime as ort

    x = np.random.default_rng(14).uniform(-1, 1, size=shape).astype(np.float32)
    outs = []
    for p in (a, b):
        s = ort.InferenceSession(str(p), providers=["CPUExecutionProvider"])
        outs.append(s.run(None, {s.get_inputs()[0].name: x})[0])
    return float(np.abs(outs[0] - outs[1]).max())


def build(model_dir: Path | None = None) -> dict:
    """Rewrite the wheel's detection and recognition models into `model_dir` and check that
    they compute what the originals compute (largest difference of any output on a random
    input: below 1e-3)."""
    model_dir = model_dir or default_dir()
    src = wheel_models()
    det, rec = built_paths(model_dir)
    report = {"dir": str(model_dir), "det": rewrite(src / DET, det), "rec": rewrite(src / REC, rec)}
    report["det_max_diff"] = _max_difference(src / DET, det, (1, 3, 320, 320))
    report["rec_max_diff"] = _max_difference(src / REC, rec, (2, 3, 48, 480))
    if report["det_max_diff"] > 1e-3 or report["rec_max_diff"] > 1e-3:
        det.unlink(missing_ok=True)
        rec.unlink(missing_ok=True)
        raise RuntimeError(f"rewritten OCR models differ from the originals: {report}")
    (model_dir / "manifest.json").write_text(json.dumps(
        {"version": REWRITE_VERSION, "det": _digest(src / DET), "rec": _digest(src / REC)}, indent=1))
    return report
