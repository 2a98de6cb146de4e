"""ThyWill's ``app_helpers.cli.backup_verification`` over the core's backup verify.

Swap it in with the one line that becomes the ThyWill module's body::

    import sys; from thywill_core.compat import backup_verification as _m; sys.modules[__name__] = _m

``python -m app_helpers.cli.backup_verification FILE`` then runs this module's ``main``
(``runpy`` runs the swap line as ``__main__``; this module, imported by it, calls ``main``:
``compat._cli``). ``verify_backup`` returns ThyWill's
dict (``file_exists``, ``checksum_verified``, ``checksum_file_found``,
``database_integrity_ok``, ``errors``), filled from ``thywill_core.backup_verify``, which
passes the integrity check only on SQLite's exact ``ok``, not on any output containing the
letters ``ok``, and needs no ``sqlite3`` binary.

The verify goes through ``compat._database.call_core``: in the app's process when the core
and Python's ``sqlite3`` share one SQLite library (the wheel's build), else in a child Python
process, as ThyWill ran the ``sqlite3`` tool in one. A second SQLite library in the app's
process would be unsafe: when it closes a file, the process's POSIX locks on that file are
dropped, including the app's if the app has it open (the live database).
"""

from __future__ import annotations

import sys
from typing import Any, Dict

from thywill_core.compat._cli import run_main_if_swapped_in
from thywill_core.compat._database import call_core

_RESULT_KEYS = (
    "file_exists",
    "checksum_verified",
    "checksum_file_found",
    "database_integrity_ok",
    "errors",
)


def verify_backup(backup_file: str) -> Dict[str, Any]:
    """
    Verify backup file integrity.

    Args:
        backup_file: Path to the backup file to verify

    Returns:
        Dict containing verification results
    """
    # ThyWill never requires a checksum file: without one the check is skipped, not failed.
    report: Dict[str, Any] = call_core("backup_verify", str(backup_file), require_checksum=False)
    return {key: report[key] for key in _RESULT_KEYS}


def print_verification_report(backup_file: str, results: Dict[str, Any]) -> None:
    """Print a formatted verification report to stdout."""
    print(f"🔍 Verifying Backup Integrity: {backup_file}")
    print("=" * 50)
    print()

    if not results["file_exists"]:
        print("❌ Backup file not found")
        for error in results["errors"]:
            print(f"   {error}")
        return

    print("📁 File integrity:")
    if results["checksum_file_found"]:
        if results["checksum_verified"]:
            print("   ✅ Checksum verification passed")
        else:
            print("   ❌ Checksum verification failed")
    else:
        print("   ⚠️  No checksum file found, skipping checksum verification")

    print()
    print("🗄️  Database integrity:")
    if results["database_integrity_ok"]:
        print("   ✅ Database integrity check passed")
    else:
        print("   ❌ Database integrity check failed")

    if results["errors"]:
        print()
        print("❌ Errors encountered:")
        for error in results["errors"]:
            print(f"   • {error}")

    print()
    if not results["errors"]:
        print("✅ Backup verification completed successfully")
    else:
        print("❌ Backup verification failed")


def main() -> None:
    """Main entry point when run as a standalone script."""
    if len(sys.argv) < 2:
        print("Usage: python backup_verification.py <backup_file>")
        sys.exit(1)

    backup_file = sys.argv[1]

    try:
        results = verify_backup(backup_file)
        print_verification_report(backup_file, results)

        # Exit with error code if verification failed
        if results["errors"]:
            sys.exit(1)

    except Exception as e:
        print(f"❌ Verification failed: {e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
else:
    run_main_if_swapped_in(__name__, main)
