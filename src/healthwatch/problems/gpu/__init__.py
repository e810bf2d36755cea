"""The GPU problem daemon: NVIDIA devices read through NVML behind a small adapter interface.

``adapter`` holds the contract (devices, samples, Xid events, errors), ``nvml``
the real adapter (``nvidia-ml-py``, imported only when the daemon starts),
``xids`` the Xid catalog, ``book`` the per-GPU rules, ``daemon`` the problem
daemon itself. ``healthwatch.testing.FakeGpuAdapter`` drives it without a GPU.
See ``docs/gpu.md`` for the user's view.
"""
