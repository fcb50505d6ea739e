"""The ``nncourse`` command."""
import argparse
import sys

from . import release as release_mod


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nncourse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p_release = sub.add_parser("release", help="regenerate exercises/ from solutions/")
    p_release.add_argument("assignment", nargs="*", help="assignment names (default: all)")

    args = parser.parse_args(argv)
    if args.command == "release":
        for path in release_mod.release(args.assignment or None):
            print(f"released {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
