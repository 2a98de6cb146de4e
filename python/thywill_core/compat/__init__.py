"""Drop-in replacements for ThyWill's Python modules, over the core.

Each module here has the name, classes, functions, parameters, defaults and return shapes
of the ThyWill module it replaces. A ThyWill module switches to it with one line, its whole
body, which makes this module take its place::

    import sys; from thywill_core.compat import text_archive_service as _m; sys.modules[__name__] = _m

After that line every importer of the ThyWill module gets this module itself, so the
patches ThyWill's tests and deployments apply to module globals
(``patch("app_helpers.services.text_archive_service.TEXT_ARCHIVE_ENABLED", False)``)
and to the singleton (``text_archive_service.enabled = False``) land where the code
reads them: the compat code reads its settings and singletons from its own module globals
at call time, at the moments ThyWill reads them.

A star import (``from thywill_core.compat.text_archive_service import *``) is not
supported: it copies the names into ThyWill's module, so patches applied there never reach
the code here and silently do nothing.

Modules: ``text_archive_service`` (``app_helpers/services/text_archive_service.py``),
``archive_download_service`` (``app_helpers/services/archive_download_service.py``) and
``backup_verification`` (``app_helpers/cli/backup_verification.py``). See
``docs/migrating-from-thywill.md`` for what each one changes in behaviour.
"""

