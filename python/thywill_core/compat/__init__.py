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

Modules (ThyWill's file each replaces):

- ``text_archive_service`` (``app_helpers/services/text_archive_service.py``)
- ``text_importer_service`` (``app_helpers/services/text_importer_service.py``)
- ``archive_download_service`` (``app_helpers/services/archive_download_service.py``)
- ``database_recovery`` (``app_helpers/services/database_recovery.py``)
- ``backup_verification`` (``app_helpers/cli/backup_verification.py``)
- ``archive_validation`` (``app_helpers/cli/archive_validation.py``)
- ``recovery_report`` (``app_helpers/cli/recovery_report.py``)

A CLI module swapped in this way still runs as ThyWill's did with
``python -m app_helpers.cli.<name>``: ``runpy`` runs the swap line as ``__main__``, and the
compat module, imported by it, calls its ``main`` (``_cli.run_main_if_swapped_in``). See
``docs/migrating-from-thywill.md`` for what each module changes in behaviour.
"""
