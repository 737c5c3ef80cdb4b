"""jobreg: the author API, the Python half of libjobreg (src/py/jobreg).

Compiled into the library and run at every start-up; no file of it is
installed. Job authors import ``jobreg.jobs`` (the façade: ``Job``,
``register_jobs``, the variables); app authors ``jobreg.apps``. The rest is
the library's own: ``_variables``, ``_meta``, ``_context`` (behind the
façade), ``_compat`` (the ``nautobot.*`` modules), ``_loader`` and
``_runner`` (driven by src/loader.c and src/run.c).

Not to be confused with the binding (bindings/python/jobreg), the cffi
package a Python host imports as ``jobreg``. In such a host this file never
runs: the binding's package is ``jobreg``, and the library adds the modules
above to it as sub-modules (docs/python.md, "One interpreter, one
``jobreg`` package"). So this package imports nothing and defines nothing.
"""
