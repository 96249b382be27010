"""mmdet's and ultralytics' focal losses as shipped, loaded without the
packages' heavy imports (mmcv's CUDA build, OpenCV): shared by
gen_profiles.py and gen_amp.py.

Install the sources without their dependencies::

    pip install --no-deps mmdet==3.3.0 ultralytics==8.4.190
"""

import importlib.util
import os
import sys
import types

import torch


def load_mmdet_focal_loss():
    """mmdet's focal_loss.py as shipped, without mmcv (a CUDA build).

    The module imports ``mmcv.ops.sigmoid_focal_loss`` (used only for CUDA
    tensors) and the registry (a decorator); both get stand-ins, and its
    relative imports (``.utils``, ``.accuracy``) load the real files.
    """
    from importlib.metadata import version

    base = os.path.join(importlib.util.find_spec("mmdet").submodule_search_locations[0], "models", "losses")
    mmcv = types.ModuleType("mmcv")
    mmcv_ops = types.ModuleType("mmcv.ops")
    mmcv_ops.sigmoid_focal_loss = None
    mmcv.ops = mmcv_ops
    registry = types.ModuleType("mmdet.registry")

    class Models:
        @staticmethod
        def register_module(*args, **kwargs):
            return lambda cls: cls

    registry.MODELS = Models()
    sys.modules.update({"mmcv": mmcv, "mmcv.ops": mmcv_ops, "mmdet.registry": registry})
    package = types.ModuleType("mmdet_losses")
    package.__path__ = [base]
    sys.modules["mmdet_losses"] = package
    for name in ("utils", "accuracy", "focal_loss"):
        spec = importlib.util.spec_from_file_location(f"mmdet_losses.{name}", os.path.join(base, f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[f"mmdet_losses.{name}"] = module
        spec.loader.exec_module(module)
    return sys.modules["mmdet_losses.focal_loss"], version("mmdet")


def load_ultralytics_focal_loss():
    """ultralytics' `FocalLoss` class as shipped, taken from its source file.

    Importing the package needs OpenCV and more; the class itself needs only
    torch, so its source (found with `ast`) runs in a namespace with torch.
    """
    import ast
    from importlib.metadata import version

    path = os.path.join(importlib.util.find_spec("ultralytics").submodule_search_locations[0], "utils", "loss.py")
    source = open(path).read()
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == "FocalLoss")
    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(ast.get_source_segment(source, node), namespace)
    return namespace["FocalLoss"], version("ultralytics")
