"""Routes held on their legacy side (by the guard's tripwire or an operator), and their stores.

- :mod:`gateway.pins.store`: :class:`Pin`, :class:`Pins` (the hot-path lookup), the store protocol
  and the local stores (memory, JSON file);
- :mod:`gateway.pins.redis_store`: the store shared by every worker and replica (``REDIS_URL``);
- :mod:`gateway.pins.sharing`: which store a process uses and the task keeping it in step.
"""
