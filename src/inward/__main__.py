"""`python -m inward ...` runs the command line, the same as the `inward` console script."""

from inward.cli import main

if __name__ == "__main__":
    main()
