"""Command line: ``python -m dlbook doctor`` prints an environment report."""

import sys

USAGE = "usage: python -m dlbook doctor"


def main(argv: list[str]) -> int:
    """Dispatch the command; returns the exit status."""
    if argv != ["doctor"]:
        print(USAGE, file=sys.stderr)
        return 2
    from dlbook.book.doctor import doctor

    print(doctor())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
