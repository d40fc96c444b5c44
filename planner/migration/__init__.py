"""Data migration (issue #11): read an old CRM's export, profile it, find its duplicates, clean
it with a recipe, pilot and reconcile it.

polars' allocator (jemalloc) keeps memory it freed for a second or so before it hands it back,
so the phases of a profile pile up: a 1,000,000-row profile peaked at 290-310 MB. Handing it
back after 100 ms brings that to about 280 MB for about 6% more CPU time (immediately: 245 MB
but 70% more time). It must be set before polars is loaded, which this package is the first
to do; a deployment's own ``_RJEM_MALLOC_CONF`` wins.
"""

import os

os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:100,muzzy_decay_ms:100")
